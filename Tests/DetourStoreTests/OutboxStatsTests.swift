import DetourCore
import DetourStore
import Foundation
import Testing
import TestKit

@Suite struct OutboxStatsTests {
    let t0 = StoreFixture.t0

    @Test(arguments: StoreKind.allCases) func anEmptyOutboxHasEveryStateAtZeroAndNothingWaiting(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let stats = try await f.store.outboxStats(now: t0)
        #expect(stats.depth == Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, 0) }))
        #expect(stats.leasesHeld == 0)
        #expect(stats.oldestDueAge == 0)
    }

    @Test(arguments: StoreKind.allCases) func theFiguresCountLiveLeasesAndHowLongDueWorkHasWaited(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 5, at: t0)
        let d0 = try await f.store.claim(channel: .email, limit: 1, owner: "a", lease: .seconds(60), now: t0)
        let d1 = try await f.store.claim(channel: .email, limit: 1, owner: "b", lease: .seconds(10), now: t0)
        let d2 = try #require(try await f.store.claim(channel: .email, limit: 1, owner: "c", lease: .seconds(60), now: t0).first)
        #expect(d0.count == 1 && d1.count == 1)
        #expect(try await f.store.complete(d2.id, owner: "c", outcome: .retry(error: "421 busy", retryAt: t0 + 20), now: t0))

        // At t0+15: two queued since t0, b's lease has run out, c's delivery is not due again until t0+20.
        let early = try await f.store.outboxStats(now: t0 + 15)
        #expect(early.depth[.queued] == 2 && early.depth[.sending] == 2 && early.depth[.failed] == 1)
        #expect(early.depth[.sent] == 0 && early.depth[.dead] == 0)
        #expect(early.leasesHeld == 1)
        #expect(early.oldestDueAge == 15)
        #expect(early.depth == (try await f.store.queueDepth()))

        // A worker takes everything due (the two queued and b's expired one); another business's incident
        // queues deliveries that are not due until t0+100.
        #expect(try await f.store.claim(channel: .email, limit: 10, owner: "z", lease: .seconds(60), now: t0 + 15).count == 3)
        try await f.store.openIncident(f.newIncident(at: t0 + 100, business: BusinessID("marios")),
                                       deliveries: StoreFixture.emails(2), audit: nil)

        // At t0+25: only c's retry (due since t0+20) is waiting; four leases are live.
        let later = try await f.store.outboxStats(now: t0 + 25)
        #expect(later.depth[.queued] == 2 && later.depth[.sending] == 4 && later.depth[.failed] == 1)
        #expect(later.leasesHeld == 4)
        #expect(abs(later.oldestDueAge - 5) < 0.001)

        // At t0+80 every lease has run out; they do not count as held, and their rows are not "due" work.
        let stale = try await f.store.outboxStats(now: t0 + 80)
        #expect(stale.leasesHeld == 0)
        #expect(abs(stale.oldestDueAge - 60) < 0.001)
    }

    @Test(arguments: StoreKind.allCases) func theOldestDueDeliveryOfAnyChannelCounts(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let webhook = NewDelivery(event: .opened, channel: .webhook, target: "ops", idempotencyKey: "1/1/webhook/ops")
        try await f.store.openIncident(f.newIncident(at: t0), deliveries: [webhook], audit: nil)
        try await f.store.openIncident(f.newIncident(at: t0 + 30, business: BusinessID("marios")),
                                       deliveries: StoreFixture.emails(1), audit: nil)
        #expect(try await f.store.outboxStats(now: t0 + 40).oldestDueAge == 40)
    }
}
