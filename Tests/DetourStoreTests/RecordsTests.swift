import DetourCore
@testable import DetourStore
import Foundation
import GRDB
import Testing
import TestKit

@Suite struct RecordsTests {
    let t0 = StoreFixture.t0

    @Test(arguments: StoreKind.allCases) func theAuditLogIsAppendOnlyAndNewestFirst(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.store.appendAudit(f.audit("policy.loaded"))
        try await f.store.appendAudit(AuditEntry(at: t0, actor: "reload", action: "policy.changed", business: nil,
                                                 incident: nil, detail: "3 policies"))
        try await f.store.appendAudit(f.audit("hold.set"))
        #expect(try await f.store.audit(business: nil, limit: 10).map(\.action) == ["hold.set", "policy.changed", "policy.loaded"])
        #expect(try await f.store.audit(business: f.business, limit: 10).map(\.action) == ["hold.set", "policy.loaded"])
        #expect(try await f.store.audit(business: nil, limit: 1).map(\.action) == ["hold.set"])

        for sql in ["UPDATE audit SET detail = 'nothing happened'", "DELETE FROM audit"] {
            let error = await #expect(throws: (any Error).self) { try await f.execute(sql: sql) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("append-only"))
        }
        #expect(try await f.store.audit(business: nil, limit: 10).count == 3)
    }

    @Test(arguments: StoreKind.allCases) func unsubscribesIgnoreTheCaseOfTheAddress(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.store.unsubscribe(business: f.business, email: "Alice@Example.COM", at: t0)
        try await f.store.unsubscribe(business: f.business, email: "alice@example.com", at: t0.addingTimeInterval(5))
        try await f.store.unsubscribe(business: BusinessID("tonys"), email: "bob@example.com", at: t0)
        #expect(try await f.store.unsubscribed(business: f.business) == ["alice@example.com"])
        #expect(try await f.store.unsubscribed(business: BusinessID("nobody")).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func settingAnOverrideReplacesTheOneOfTheSameKind(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let hold = OverrideRecord(business: f.business, kind: .hold, platforms: [], reason: "maintenance",
                                  setBy: "uid 1000 (alice)", setAt: t0, expiresAt: t0.addingTimeInterval(3600))
        try await f.store.setOverride(hold, audit: f.audit("hold.set"))
        var longer = hold
        longer.expiresAt = t0.addingTimeInterval(7200)
        longer.reason = "longer maintenance"
        try await f.store.setOverride(longer, audit: f.audit("hold.set"))
        let failover = OverrideRecord(business: f.business, kind: .failover, platforms: [.facebook, .whatsapp],
                                      reason: "Meta says so", setBy: "uid 0 (root)", setAt: t0, expiresAt: nil)
        try await f.store.setOverride(failover, audit: f.audit("failover.start"))
        #expect(try await f.store.overrides() == [failover, longer])

        #expect(try await f.store.clearOverride(business: f.business, kind: .hold, audit: f.audit("hold.release")))
        #expect(try await f.store.clearOverride(business: f.business, kind: .hold, audit: f.audit("hold.release")) == false)
        #expect(try await f.store.overrides() == [failover])
        #expect(try await f.store.audit(business: f.business, limit: 10).map(\.action)
            == ["hold.release", "failover.start", "hold.set", "hold.set"])
    }

    @Test(arguments: StoreKind.allCases) func statusTransitionsRoundTripNewestFirst(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let transitions = [
            StatusTransition(platform: .facebook, from: .operational, to: .down, reason: "DNS: NXDOMAIN", at: t0),
            StatusTransition(platform: .instagram, from: .operational, to: .degraded, reason: "HTTP 503",
                             at: t0.addingTimeInterval(10)),
            StatusTransition(platform: .facebook, from: .down, to: .operational, reason: "all probes ok",
                             at: t0.addingTimeInterval(600.5)),
        ]
        for t in transitions { try await f.store.record(t) }
        #expect(try await f.store.recent(platform: nil, limit: 10) == transitions.reversed())
        #expect(try await f.store.recent(platform: .facebook, limit: 10) == [transitions[2], transitions[0]])
        #expect(try await f.store.recent(platform: nil, limit: 1) == [transitions[2]])
        #expect(try await f.store.recent(platform: nil, limit: 0).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func datesKeepSubMillisecondPrecision(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let at = Date()
        try await f.store.record(StatusTransition(platform: .threads, from: .unknown, to: .operational, reason: "r", at: at))
        let back = try #require(try await f.store.recent(platform: .threads, limit: 1).first?.at)
        #expect(abs(back.timeIntervalSince(at)) < 0.000_01)
    }
}
