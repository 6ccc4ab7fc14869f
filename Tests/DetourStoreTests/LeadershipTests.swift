import DetourCore
@testable import DetourStore
import Foundation
import Testing
import TestKit

/// The leader lease and its fencing token, on the PostgreSQL store: two stores on one database
/// stand for two nodes; the clock is the `now` each call is given.
@Suite struct LeadershipTests {
    let t0 = StoreFixture.t0

    /// Two nodes (two stores, two connection pools) on one fresh database with a policy version.
    private func twoNodes() async throws -> (StoreFixture, PostgresStore, PostgresStore) {
        let f = try await StoreFixture(.postgres)
        let a = f.store as! PostgresStore
        let b = try await PostgresStore.open(try PostgresLocation(url: f.databaseURL!))
        return (f, a, b)
    }

    @Test func theFirstNodeLeadsRenewsItsTermAndAnotherTakesOverOnlyOnceItHasExpired() async throws {
        let (_, a, b) = try await twoNodes()
        #expect(try await a.leader() == nil)
        let first = try #require(try await a.lead(node: "a", lease: .seconds(10), now: t0))
        #expect(first == LeaderLease(node: "a", term: 1, expiresAt: t0 + 10))
        #expect(try await b.lead(node: "b", lease: .seconds(10), now: t0 + 5) == nil)
        let renewed = try #require(try await a.lead(node: "a", lease: .seconds(10), now: t0 + 6))
        #expect(renewed.term == 1 && renewed.expiresAt == t0 + 16)
        #expect(try await b.lead(node: "b", lease: .seconds(10), now: t0 + 15.9) == nil)
        let taken = try #require(try await b.lead(node: "b", lease: .seconds(10), now: t0 + 16.1))
        #expect(taken == LeaderLease(node: "b", term: 2, expiresAt: t0 + 26.1))
        // The old leader, back from a pause, finds it has lost: no lease, and the leader is b.
        #expect(try await a.lead(node: "a", lease: .seconds(10), now: t0 + 17) == nil)
        #expect(try await a.leader()?.node == "b")
    }

    @Test func aLeaderThatLostItsTermCannotWriteAnIncidentAndTheNewOneCan() async throws {
        let (f, a, b) = try await twoNodes()
        let old = try #require(try await a.lead(node: "a", lease: .seconds(10), now: t0))
        a.fence(with: old)
        let opened = try await a.openIncident(f.newIncident(), deliveries: StoreFixture.emails(2), audit: nil)

        // a is paused past its lease; b takes over.
        let new = try #require(try await b.lead(node: "b", lease: .seconds(10), now: t0 + 11))
        b.fence(with: new)

        let refused = await storeError { try await a.recordEvent(.resolve(incident: opened.id, at: t0 + 12, by: "probes", reason: "up"),
                                                                 deliveries: StoreFixture.emails(2, event: .resolved, keyPrefix: "2/1"),
                                                                 audit: nil) }
        #expect(refused?.code == .conflict)
        #expect(refused?.message.contains("no longer leads") == true)
        #expect(try await a.incident(opened.id)?.state == .open, "nothing of the refused event was written")
        #expect(try await a.deliveries(DeliveryFilter(incident: opened.id)).count == 2)

        let resolved = try await b.recordEvent(.resolve(incident: opened.id, at: t0 + 12, by: "probes", reason: "up"),
                                               deliveries: StoreFixture.emails(2, event: .resolved, keyPrefix: "2/1"), audit: nil)
        #expect(resolved.state == .resolved && resolved.eventSequence == 2)
        // A store that is not fenced (one machine) writes as before.
        a.fence(with: nil)
        let other = try await a.openIncident(f.newIncident(business: BusinessID("bakery")), deliveries: [NewDelivery](), audit: nil)
        #expect(other.state == .open)
    }

    @Test func nodesAskingAtOnceGetOneLeader() async throws {
        let (f, a, b) = try await twoNodes()
        let c = try await PostgresStore.open(try PostgresLocation(url: f.databaseURL!))
        let stores = [("a", a), ("b", b), ("c", c)]
        let won = try await withThrowingTaskGroup(of: LeaderLease?.self) { group in
            for (name, store) in stores {
                group.addTask { try await store.lead(node: name, lease: .seconds(10), now: t0) }
            }
            var leases: [LeaderLease] = []
            for try await lease in group { if let lease { leases.append(lease) } }
            return leases
        }
        #expect(won.count == 1 && won.first?.term == 1)
        #expect(try await c.leader()?.node == won.first?.node)
    }

    @Test func steppingDownLetsAnotherNodeLeadAtOnce() async throws {
        let (_, a, b) = try await twoNodes()
        let lease = try #require(try await a.lead(node: "a", lease: .seconds(60), now: t0))
        try await a.stepDown(lease, now: t0 + 1)
        #expect(try await b.lead(node: "b", lease: .seconds(60), now: t0 + 2)?.term == 2)
    }

    @Test func heartbeatsListEveryNode() async throws {
        let (_, a, b) = try await twoNodes()
        try await a.heartbeat(node: "a", startedAt: t0, now: t0 + 1)
        try await b.heartbeat(node: "b", startedAt: t0 + 2, now: t0 + 3)
        try await a.heartbeat(node: "a", startedAt: t0, now: t0 + 4)
        let nodes = try await b.nodes()
        #expect(nodes.map(\.name) == ["a", "b"])
        #expect(nodes[0].heartbeatAt == t0 + 4 && nodes[1].startedAt == t0 + 2)
    }

    /// A request asked on a follower is taken by exactly one leader, once; one nobody took can be
    /// withdrawn (and then no leader takes it), one a leader took cannot.
    @Test func requestsAreTakenOnceAndOnlyAnUntakenOneCanBeWithdrawn() async throws {
        let (_, a, b) = try await twoNodes()
        let first = try await b.submitRequest(node: "b", actor: "uid 1000 on b", request: "{\"request\":\"release\"}", now: t0)
        let second = try await b.submitRequest(node: "b", actor: "uid 1000 on b", request: "{}", now: t0 + 1)
        async let x = a.takeRequest(node: "a", now: t0 + 2)
        async let y = b.takeRequest(node: "b", now: t0 + 2)
        let taken = [try await x, try await y].compactMap { $0 }
        #expect(Set(taken.map(\.id)) == [first, second], "each request taken by one node")
        #expect(try await a.takeRequest(node: "a", now: t0 + 3) == nil)
        #expect(try await b.withdrawRequest(first, reason: "late", now: t0 + 4) == false, "a taken request is being carried out")
        try await a.finishRequest(first, ok: true, answer: "done", now: t0 + 5)
        let done = try #require(try await b.request(first))
        #expect(done.ok == true && done.answer == "done" && done.actor == "uid 1000 on b" && done.doneAt == t0 + 5)

        let third = try await b.submitRequest(node: "b", actor: "uid 0 on b", request: "{}", now: t0 + 6)
        #expect(try await b.withdrawRequest(third, reason: "no leader", now: t0 + 7))
        #expect(try await a.takeRequest(node: "a", now: t0 + 8) == nil, "a withdrawn request is never carried out")
        #expect(try await b.request(third)?.ok == false)
    }

    /// Each node's views are kept one row per node and platform, replaced each round.
    @Test func viewsAreOneRowPerNodeAndPlatform() async throws {
        let (_, a, b) = try await twoNodes()
        let acme = PlatformID("acme")
        try await a.recordViews([NodeView(node: "a", platform: acme, state: .down, reason: "503", controlsPass: true, since: t0, at: t0)])
        try await b.recordViews([NodeView(node: "b", platform: acme, state: .unknown, reason: "net", controlsPass: false, since: t0, at: t0)])
        try await a.recordViews([NodeView(node: "a", platform: acme, state: .operational, reason: "ok", controlsPass: true, since: t0 + 5, at: t0 + 5)])
        let views = try await b.views()
        #expect(views.map(\.node) == ["a", "b"])
        #expect(views[0].state == .operational && views[0].at == t0 + 5 && views[1].controlsPass == false)
    }
}
