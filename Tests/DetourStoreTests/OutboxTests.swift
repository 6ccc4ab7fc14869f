import DetourCore
import DetourStore
import Foundation
import Testing
import TestKit

@Suite struct OutboxTests {
    let t0 = StoreFixture.t0

    @Test(arguments: StoreKind.allCases) func claimingLeasesDueDeliveriesOldestFirst(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 3)
        let a = try await f.store.claim(channel: .email, limit: 2, owner: "worker-a", lease: .seconds(30), now: t0)
        #expect(a.map(\.target) == ["customer0@example.com", "customer1@example.com"])
        for d in a {
            #expect(d.state == .sending && d.attempts == 1 && d.leaseOwner == "worker-a")
            #expect(d.leaseExpiresAt == t0.addingTimeInterval(30))
        }
        let b = try await f.store.claim(channel: .email, limit: 10, owner: "worker-b", lease: .seconds(30), now: t0)
        #expect(b.map(\.target) == ["customer2@example.com"])
        #expect(try await f.store.claim(channel: .email, limit: 10, owner: "worker-c", lease: .seconds(30), now: t0).isEmpty)
        #expect(try await f.store.claim(channel: .webhook, limit: 10, owner: "worker-c", lease: .seconds(30), now: t0).isEmpty)
        #expect(try await f.store.leaseOwners() == ["worker-a", "worker-b"])
        #expect(try await f.store.claim(channel: .email, limit: 0, owner: "worker-c", lease: .seconds(30), now: t0).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func deliveriesAreNotClaimedBeforeTheyAreDue(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 1, at: t0)
        #expect(try await f.store.claim(channel: .email, limit: 1, owner: "w", lease: .seconds(30),
                                        now: t0.addingTimeInterval(-1)).isEmpty)
        #expect(try await f.store.claim(channel: .email, limit: 1, owner: "w", lease: .seconds(30), now: t0).count == 1)
    }

    @Test(arguments: StoreKind.allCases) func anExpiredLeaseIsClaimedAgainWithOneMoreAttempt(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 1)
        let first = try await f.store.claim(channel: .email, limit: 1, owner: "a", lease: .seconds(30), now: t0)
        #expect(try await f.store.claim(channel: .email, limit: 1, owner: "b", lease: .seconds(30),
                                        now: t0.addingTimeInterval(29)).isEmpty)
        let again = try await f.store.claim(channel: .email, limit: 1, owner: "b", lease: .seconds(30),
                                            now: t0.addingTimeInterval(31))
        #expect(again.map(\.id) == first.map(\.id))
        #expect(again.first?.attempts == 2 && again.first?.leaseOwner == "b")
        #expect(again.first?.leaseExpiresAt == t0.addingTimeInterval(61))
    }

    @Test(arguments: StoreKind.allCases) func completingWithAStolenLeaseChangesNothing(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 1)
        let id = try #require(try await f.store.claim(channel: .email, limit: 1, owner: "a", lease: .seconds(30), now: t0).first?.id)
        _ = try await f.store.claim(channel: .email, limit: 1, owner: "b", lease: .seconds(30), now: t0.addingTimeInterval(31))
        #expect(try await f.store.complete(id, owner: "a", outcome: .sent(reply: "250 OK"), now: t0) == false)
        #expect(try await f.store.deliveries(DeliveryFilter()).first?.state == .sending)

        let sentAt = t0.addingTimeInterval(32)
        #expect(try await f.store.complete(id, owner: "b", outcome: .sent(reply: "250 2.0.0 queued as 1234"), now: sentAt))
        let sent = try #require(try await f.store.deliveries(DeliveryFilter()).first)
        #expect(sent.state == .sent && sent.reply == "250 2.0.0 queued as 1234" && sent.sentAt == sentAt)
        #expect(sent.leaseOwner == nil && sent.leaseExpiresAt == nil)
        // Completing twice is refused too: the row is no longer sending.
        #expect(try await f.store.complete(id, owner: "b", outcome: .dead(error: "x"), now: sentAt) == false)
        #expect(try await f.store.complete(999, owner: "b", outcome: .dead(error: "x"), now: sentAt) == false)
    }

    @Test(arguments: StoreKind.allCases) func aRetryWaitsForItsTimeAndKeepsTheError(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 1)
        let id = try #require(try await f.store.claim(channel: .email, limit: 1, owner: "a", lease: .seconds(30), now: t0).first?.id)
        let retryAt = t0.addingTimeInterval(120)
        #expect(try await f.store.complete(id, owner: "a", outcome: .retry(error: "421 try later", retryAt: retryAt), now: t0))
        let failed = try #require(try await f.store.deliveries(DeliveryFilter(state: .failed)).first)
        #expect(failed.lastError == "421 try later" && failed.nextAttemptAt == retryAt && failed.leaseOwner == nil)
        #expect(try await f.store.claim(channel: .email, limit: 1, owner: "a", lease: .seconds(30),
                                        now: retryAt.addingTimeInterval(-1)).isEmpty)
        let again = try await f.store.claim(channel: .email, limit: 1, owner: "a", lease: .seconds(30), now: retryAt)
        #expect(again.first?.attempts == 2 && again.first?.lastError == "421 try later")
    }

    @Test(arguments: StoreKind.allCases) func releasingLeasesQueuesTheDeliveriesAgainWithTheirAttempts(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 3)
        _ = try await f.store.claim(channel: .email, limit: 2, owner: "dead-worker", lease: .seconds(300), now: t0)
        _ = try await f.store.claim(channel: .email, limit: 1, owner: "live-worker", lease: .seconds(300), now: t0)
        let later = t0.addingTimeInterval(5)
        #expect(try await f.store.releaseLeases(owners: ["dead-worker", "nobody"], now: later) == 2)
        #expect(try await f.store.releaseLeases(owners: [], now: later) == 0)
        let queued = try await f.store.deliveries(DeliveryFilter(state: .queued))
        #expect(queued.count == 2)
        for d in queued { #expect(d.attempts == 1 && d.nextAttemptAt == later && d.leaseOwner == nil && d.leaseExpiresAt == nil) }
        #expect(try await f.store.leaseOwners() == ["live-worker"])
        #expect(try await f.store.claim(channel: .email, limit: 5, owner: "w", lease: .seconds(30), now: later).count == 2)
    }

    @Test(arguments: StoreKind.allCases) func renewingALeaseKeepsOtherClaimersAway(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 2)
        let leased = try await f.store.claim(channel: .email, limit: 2, owner: "a", lease: .seconds(30), now: t0)
        try await f.store.renewLeases([leased[0].id], owner: "a", until: t0.addingTimeInterval(90))
        try await f.store.renewLeases([leased[1].id], owner: "not-a", until: t0.addingTimeInterval(90))
        try await f.store.renewLeases([], owner: "a", until: t0.addingTimeInterval(90))
        let stolen = try await f.store.claim(channel: .email, limit: 5, owner: "b", lease: .seconds(30), now: t0.addingTimeInterval(60))
        #expect(stolen.map(\.id) == [leased[1].id])
    }

    @Test(arguments: StoreKind.allCases) func deadDeliveriesAreRequeuedWithTheirErrorAndAnAuditEntry(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 3)
        let leased = try await f.store.claim(channel: .email, limit: 3, owner: "a", lease: .seconds(30), now: t0)
        _ = try await f.store.complete(leased[0].id, owner: "a", outcome: .dead(error: "550 mailbox unavailable"), now: t0)
        _ = try await f.store.complete(leased[1].id, owner: "a", outcome: .sent(reply: "250 OK"), now: t0)
        _ = try await f.store.complete(leased[2].id, owner: "a", outcome: .dead(error: "554 rejected"), now: t0)

        let later = t0.addingTimeInterval(3600)
        #expect(try await f.store.requeue(.ids([leased[1].id]), now: later, audit: f.audit("deliveries.retry")) == 0)
        #expect(try await f.store.requeue(.dead(business: BusinessID("tonys")), now: later, audit: nil) == 0)
        #expect(try await f.store.audit(business: nil, limit: 10).isEmpty)

        #expect(try await f.store.requeue(.dead(business: f.business), now: later, audit: f.audit("deliveries.retry", at: later)) == 2)
        let queued = try await f.store.deliveries(DeliveryFilter(state: .queued))
        #expect(Set(queued.map(\.id)) == [leased[0].id, leased[2].id])
        for d in queued { #expect(d.attempts == 0 && d.nextAttemptAt == later && d.lastError != nil) }
        #expect(try await f.store.audit(business: f.business, limit: 10).map(\.action) == ["deliveries.retry"])
        #expect(try await f.store.deliveries(DeliveryFilter(state: .sent)).count == 1)
    }

    @Test(arguments: StoreKind.allCases) func requeueByIdTakesFailedAndDeadOnesOnly(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 4)
        let leased = try await f.store.claim(channel: .email, limit: 3, owner: "a", lease: .seconds(30), now: t0)
        _ = try await f.store.complete(leased[0].id, owner: "a", outcome: .retry(error: "421", retryAt: t0.addingTimeInterval(600)), now: t0)
        _ = try await f.store.complete(leased[1].id, owner: "a", outcome: .dead(error: "550"), now: t0)
        let all = try await f.store.deliveries(DeliveryFilter()).map(\.id)
        #expect(try await f.store.requeue(.ids(all), now: t0, audit: nil) == 2)
        let depth = try await f.store.queueDepth()
        #expect(depth == [.queued: 3, .sending: 1, .sent: 0, .failed: 0, .dead: 0])
    }

    @Test(arguments: StoreKind.allCases) func queueDepthNamesEveryState(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        #expect(try await f.store.queueDepth() == [.queued: 0, .sending: 0, .sent: 0, .failed: 0, .dead: 0])
        try await f.open(emails: 5)
        let leased = try await f.store.claim(channel: .email, limit: 4, owner: "a", lease: .seconds(30), now: t0)
        _ = try await f.store.complete(leased[0].id, owner: "a", outcome: .sent(reply: "250"), now: t0)
        _ = try await f.store.complete(leased[1].id, owner: "a", outcome: .retry(error: "421", retryAt: t0), now: t0)
        _ = try await f.store.complete(leased[2].id, owner: "a", outcome: .dead(error: "550"), now: t0)
        #expect(try await f.store.queueDepth() == [.queued: 1, .sending: 1, .sent: 1, .failed: 1, .dead: 1])
    }

    @Test(arguments: StoreKind.allCases) func deliveriesAreListedNewestFirstAndFiltered(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let incident = try await f.store.openIncident(f.newIncident(), deliveries: StoreFixture.emails(3) + [
            NewDelivery(event: .opened, channel: .webhook, target: "slack", idempotencyKey: "1/1/webhook/slack"),
        ], audit: nil)
        let all = try await f.store.deliveries(DeliveryFilter())
        #expect(all.map(\.id) == all.map(\.id).sorted(by: >))
        #expect(try await f.store.deliveries(DeliveryFilter(channel: .webhook)).map(\.target) == ["slack"])
        #expect(try await f.store.deliveries(DeliveryFilter(business: f.business, incident: incident.id, limit: 2)).count == 2)
        #expect(try await f.store.deliveries(DeliveryFilter(business: BusinessID("tonys"))).isEmpty)
        let email = try #require(all.last)
        #expect(email.recipientName == "Customer 0" && email.locale == "en-GB")
        #expect(email.idempotencyKey == "1/1/email/customer0@example.com" && email.incident == incident.id)
    }
}
