import DetourCore
import DetourStore
import Foundation
import Testing
import TestKit

@Suite struct IncidentTests {
    @Test(arguments: StoreKind.allCases) func recordingTheSamePolicyBytesTwiceReturnsOneVersion(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let same = PolicyVersion(business: f.business, file: "policies/rosies.yaml", contentHash: "abc123",
                                 loadedAt: StoreFixture.t0.addingTimeInterval(60))
        #expect(try await f.store.recordPolicyVersion(same) == f.policyVersion)
        var changed = same
        changed.contentHash = "def456"
        #expect(try await f.store.recordPolicyVersion(changed) != f.policyVersion)
    }

    @Test(arguments: StoreKind.allCases) func openingAnIncidentQueuesItsDeliveriesInOneTransaction(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let incident = try await f.store.openIncident(f.newIncident(), deliveries: StoreFixture.emails(3),
                                                      audit: f.audit("failover.start"))
        #expect(incident.state == .open)
        #expect(incident.eventSequence == 1)
        #expect(incident.platforms == [.facebook, .instagram])
        #expect(try await f.store.incident(incident.id) == incident)

        let deliveries = try await f.store.deliveries(DeliveryFilter(incident: incident.id))
        #expect(deliveries.count == 3)
        for d in deliveries {
            #expect(d.state == .queued && d.attempts == 0 && d.eventSequence == 1 && d.business == f.business)
            #expect(d.createdAt == StoreFixture.t0 && d.nextAttemptAt == StoreFixture.t0)
            #expect(d.leaseOwner == nil && d.leaseExpiresAt == nil)
        }
        let audit = try await f.store.audit(business: f.business, limit: 10)
        #expect(audit.map(\.action) == ["failover.start"])
        #expect(audit.first?.incident == incident.id)
    }

    @Test(arguments: StoreKind.allCases) func aBusinessHasAtMostOneOpenIncident(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let first = try await f.open(emails: 1)
        let error = await storeError {
            try await f.store.openIncident(f.newIncident(), deliveries: StoreFixture.emails(2, keyPrefix: "2/1"),
                                           audit: f.audit("failover.start"))
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("#\(first.id)") == true)
        // Nothing of the refused incident was kept.
        #expect(try await f.store.queueDepth()[.queued] == 1)
        #expect(try await f.store.audit(business: nil, limit: 10).isEmpty)
        #expect(try await f.store.incidents(IncidentFilter()).count == 1)

        // Another business is not affected, and once resolved the first may open again.
        let other = try await f.store.recordPolicyVersion(
            PolicyVersion(business: BusinessID("tonys"), file: "tonys.yaml", contentHash: "t", loadedAt: StoreFixture.t0))
        var tonys = f.newIncident(business: BusinessID("tonys"))
        tonys.policyVersion = other
        _ = try await f.store.openIncident(tonys, deliveries: [], audit: nil)
        _ = try await f.store.recordEvent(.resolve(incident: first.id, at: StoreFixture.t0, by: "probes", reason: "up"),
                                          deliveries: [], audit: nil)
        _ = try await f.store.openIncident(f.newIncident(), deliveries: [], audit: nil)
    }

    @Test(arguments: StoreKind.allCases) func openingWithAnUnknownPolicyVersionIsNotFound(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        var incident = f.newIncident()
        incident.policyVersion = 999
        let error = await storeError { try await f.store.openIncident(incident, deliveries: [], audit: nil) }
        #expect(error?.code == .notFound)
    }

    @Test(arguments: StoreKind.allCases) func duplicateIdempotencyKeysAreNeverQueuedTwice(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let twice = StoreFixture.emails(2) + StoreFixture.emails(1)
        let incident = try await f.store.openIncident(f.newIncident(), deliveries: twice, audit: nil)
        #expect(try await f.store.deliveries(DeliveryFilter()).count == 2)

        // A retried event that carries keys already stored queues only the new ones.
        let resolved = try await f.store.recordEvent(
            .resolve(incident: incident.id, at: StoreFixture.t0, by: "probes", reason: "up"),
            deliveries: StoreFixture.emails(3, event: .resolved, keyPrefix: "1/1"), audit: nil)
        #expect(resolved.state == .resolved)
        let all = try await f.store.deliveries(DeliveryFilter())
        #expect(all.count == 3)
        #expect(Set(all.map(\.idempotencyKey)).count == 3)
    }

    @Test(arguments: StoreKind.allCases) func resolvingAndReopeningMoveTheEventSequence(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let opened = try await f.open(emails: 1)
        let t1 = StoreFixture.t0.addingTimeInterval(600)
        let resolved = try await f.store.recordEvent(
            .resolve(incident: opened.id, at: t1, by: "probes", reason: "facebook is back"),
            deliveries: StoreFixture.emails(1, event: .resolved, keyPrefix: "1/2"), audit: f.audit("failover.stop", at: t1))
        #expect(resolved.state == .resolved && resolved.eventSequence == 2)
        #expect(resolved.resolvedAt == t1 && resolved.resolvedBy == "probes" && resolved.resolveReason == "facebook is back")
        let resolveDelivery = try await f.store.deliveries(DeliveryFilter(limit: 1)).first
        #expect(resolveDelivery?.event == .resolved && resolveDelivery?.eventSequence == 2)
        #expect(resolveDelivery?.createdAt == t1 && resolveDelivery?.nextAttemptAt == t1)

        let t2 = t1.addingTimeInterval(60)
        let reopened = try await f.store.recordEvent(
            .reopen(incident: opened.id, at: t2, reason: "whatsapp is down", platforms: [.whatsapp]),
            deliveries: StoreFixture.emails(1, keyPrefix: "1/3"), audit: nil)
        #expect(reopened.state == .open && reopened.eventSequence == 3)
        #expect(reopened.resolvedAt == nil && reopened.resolvedBy == nil && reopened.resolveReason == nil)
        #expect(reopened.platforms == [.whatsapp] && reopened.reason == "whatsapp is down")
        #expect(reopened.openedAt == StoreFixture.t0)
        #expect(try await f.store.deliveries(DeliveryFilter(limit: 1)).first?.eventSequence == 3)
        #expect(try await f.store.incident(opened.id) == reopened)
    }

    @Test(arguments: StoreKind.allCases) func eventsThatContradictTheIncidentAreConflicts(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let opened = try await f.open(emails: 0)
        let reopen = await storeError {
            try await f.store.recordEvent(.reopen(incident: opened.id, at: StoreFixture.t0, reason: "x", platforms: []),
                                          deliveries: [], audit: nil)
        }
        #expect(reopen?.code == .conflict)
        _ = try await f.store.recordEvent(.resolve(incident: opened.id, at: StoreFixture.t0, by: "probes", reason: "up"),
                                          deliveries: [], audit: nil)
        let resolveTwice = await storeError {
            try await f.store.recordEvent(.resolve(incident: opened.id, at: StoreFixture.t0, by: "probes", reason: "up"),
                                          deliveries: StoreFixture.emails(1, keyPrefix: "1/3"), audit: f.audit("failover.stop"))
        }
        #expect(resolveTwice?.code == .conflict)
        #expect(try await f.store.deliveries(DeliveryFilter()).isEmpty)
        #expect(try await f.store.audit(business: nil, limit: 10).isEmpty)
        let takeOver = await storeError {
            try await f.store.recordEvent(.takeOver(incident: opened.id, by: "uid 1000 (alice)", reason: "x"), deliveries: [], audit: nil)
        }
        #expect(takeOver?.code == .conflict)
        let unknown = await storeError {
            try await f.store.recordEvent(.resolve(incident: 42, at: StoreFixture.t0, by: "probes", reason: "up"),
                                          deliveries: [], audit: nil)
        }
        #expect(unknown?.code == .notFound)
        #expect(try await f.store.incident(42) == nil)
    }

    @Test(arguments: StoreKind.allCases) func reopeningIsRefusedWhileAnotherIncidentOfTheBusinessIsOpen(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let first = try await f.open(emails: 0)
        _ = try await f.store.recordEvent(.resolve(incident: first.id, at: StoreFixture.t0, by: "probes", reason: "up"),
                                          deliveries: [], audit: nil)
        _ = try await f.store.openIncident(f.newIncident(), deliveries: [], audit: nil)
        let error = await storeError {
            try await f.store.recordEvent(.reopen(incident: first.id, at: StoreFixture.t0, reason: "again", platforms: [.facebook]),
                                          deliveries: [], audit: nil)
        }
        #expect(error?.code == .conflict)
    }

    @Test(arguments: StoreKind.allCases) func takingOverMakesTheIncidentManualAndKeepsItsSequence(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let opened = try await f.open(emails: 0)
        let audit = f.audit("failover.start")
        let taken = try await f.store.recordEvent(.takeOver(incident: opened.id, by: "uid 1000 (alice)", reason: "Meta confirmed"),
                                                  deliveries: [], audit: audit)
        #expect(taken.origin == .manual && taken.openedBy == "uid 1000 (alice)" && taken.reason == "Meta confirmed")
        #expect(taken.eventSequence == 1 && taken.state == .open)
        let logged = try await f.store.audit(business: f.business, limit: 1).first
        #expect(logged?.action == "failover.start" && logged?.incident == opened.id)
    }

    @Test(arguments: StoreKind.allCases) func incidentListsAreNewestFirstAndLatestIsPerBusiness(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let first = try await f.open(emails: 0)
        _ = try await f.store.recordEvent(.resolve(incident: first.id, at: StoreFixture.t0, by: "probes", reason: "up"),
                                          deliveries: [], audit: nil)
        let second = try await f.open(emails: 0)
        let other = try await f.store.recordPolicyVersion(
            PolicyVersion(business: BusinessID("tonys"), file: "tonys.yaml", contentHash: "t", loadedAt: StoreFixture.t0))
        var tonys = f.newIncident(business: BusinessID("tonys"))
        tonys.policyVersion = other
        let third = try await f.store.openIncident(tonys, deliveries: [], audit: nil)

        #expect(try await f.store.incidents(IncidentFilter()).map(\.id) == [third.id, second.id, first.id])
        #expect(try await f.store.incidents(IncidentFilter(business: f.business)).map(\.id) == [second.id, first.id])
        #expect(try await f.store.incidents(IncidentFilter(state: .resolved)).map(\.id) == [first.id])
        #expect(try await f.store.incidents(IncidentFilter(limit: 1)).map(\.id) == [third.id])
        #expect(try await f.store.latestIncidents().map(\.id) == [second.id, third.id])
    }

    @Test(arguments: StoreKind.allCases) func emailCountsCountEveryPromisedEmailPerAddress(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let incident = try await f.store.openIncident(f.newIncident(), deliveries: StoreFixture.emails(2) + [
            NewDelivery(event: .opened, channel: .webhook, target: "slack", idempotencyKey: "1/1/webhook/slack"),
        ], audit: nil)
        let leased = try await f.store.claim(channel: .email, limit: 1, owner: "w", lease: .seconds(30), now: StoreFixture.t0)
        #expect(try await f.store.complete(leased[0].id, owner: "w", outcome: .dead(error: "550 no such user"), now: StoreFixture.t0))
        _ = try await f.store.recordEvent(.resolve(incident: incident.id, at: StoreFixture.t0, by: "probes", reason: "up"),
                                          deliveries: StoreFixture.emails(1, event: .resolved, keyPrefix: "1/2"), audit: nil)
        let counts = try await f.store.messageCounts(incident: incident.id)
        #expect(counts == ["customer0@example.com": 2, "customer1@example.com": 1])
        #expect(try await f.store.messageCounts(incident: 999).isEmpty)
    }
}
