import DetourCore
import Foundation
import Testing

/// The cluster's vote: a platform is down only when a quorum of the nodes that can tell see it down.
@Suite struct ClusterVoteTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let acme = PlatformID("acme")

    func view(_ node: String, _ state: PlatformState, controls: Bool = true, since: Double = 0, age: Double = 1) -> NodeView {
        NodeView(node: node, platform: acme, state: state, reason: "\(node) sees \(state.rawValue)", controlsPass: controls,
                 since: t0.addingTimeInterval(since), at: t0.addingTimeInterval(100 - age))
    }

    func vote(_ views: [NodeView], quorum: Int? = nil) -> PlatformStatus? {
        var v = ClusterVote()
        _ = v.update(platforms: [acme], views: views, quorum: quorum, maxAge: [acme: 15], now: t0.addingTimeInterval(100))
        return v.current[acme]
    }

    @Test func twoOfThreeDownIsDownSinceTheSecondSawIt() throws {
        let s = try #require(vote([view("a", .down, since: 10), view("b", .down, since: 20), view("c", .operational)]))
        #expect(s.state == .down)
        #expect(s.since == t0.addingTimeInterval(20), "the quorum was reached when the second node saw it down")
        #expect(s.reason.contains("down for 2 of 3 nodes that can tell (a, b), quorum 2"), "\(s.reason)")
    }

    @Test func oneOfThreeDownIsNotDown() throws {
        let s = try #require(vote([view("a", .down), view("b", .operational), view("c", .operational)]))
        #expect(s.state == .degraded)
        #expect(s.reason.contains("up for 2 of 3") && s.reason.contains("down for a only"), "\(s.reason)")
    }

    @Test func aNodeWhoseControlsFailAbstainsAndTheOtherTwoDecide() throws {
        let s = try #require(vote([view("a", .down), view("b", .down), view("c", .unknown, controls: false)]))
        #expect(s.state == .down)
        #expect(s.reason.contains("c abstains: own controls failing"), "\(s.reason)")
        // Its own view is ignored even when it claims the platform is up.
        let t = try #require(vote([view("a", .down), view("b", .down), view("c", .operational, controls: false)]))
        #expect(t.state == .down)
    }

    @Test func aSplitOfTwoDecidesNothing() throws {
        let s = try #require(vote([view("a", .down), view("b", .operational)]))
        #expect(s.state == .unknown, "unknown neither opens nor resolves a failover")
        #expect(s.reason.contains("no quorum"), "\(s.reason)")
    }

    @Test func staleViewsDoNotCount() throws {
        let s = try #require(vote([view("a", .down), view("b", .down, age: 60), view("c", .operational, age: 60)]))
        #expect(s.state == .down, "a alone is the majority of the nodes still probing")
        #expect(s.reason.contains("no recent round from b, c"), "\(s.reason)")
    }

    @Test func noNodeThatCanTellIsUnknown() throws {
        #expect(vote([view("a", .unknown, controls: false)])?.state == .unknown)
        #expect(vote([])?.state == .unknown)
    }

    @Test func aFixedQuorumIsNeverLoweredByAbsentNodes() throws {
        #expect(vote([view("a", .down), view("b", .down)], quorum: 2)?.state == .down)
        let s = try #require(vote([view("a", .down), view("b", .unknown, controls: false)], quorum: 2))
        #expect(s.state == .unknown, "one node cannot reach a quorum of two: nothing is decided either way")
        #expect(vote([view("a", .operational), view("b", .operational), view("c", .down)], quorum: 2)?.state == .degraded)
    }

    @Test func aStateThatHoldsKeepsItsSinceAndTransitionsAreReportedOnce() {
        var v = ClusterVote()
        let now1 = t0.addingTimeInterval(100)
        var changes = v.update(platforms: [acme], views: [view("a", .down), view("b", .down)], quorum: nil, maxAge: [acme: 15], now: now1)
        #expect(changes.map(\.to) == [.down])
        changes = v.update(platforms: [acme], views: [view("a", .down), view("b", .down)], quorum: nil, maxAge: [acme: 15],
                           now: now1.addingTimeInterval(1))
        #expect(changes.isEmpty)
        #expect(v.current[acme]?.since == t0)
    }
}
