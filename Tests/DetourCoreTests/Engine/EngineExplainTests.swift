import Foundation
import Testing
import DetourCore

/// `detour status` asks the engine why each business is, or is not, failing over.
@Suite struct EngineExplainTests {
    @Test func aPlatformDownWithinTheGraceSaysWhenTheFailoverIsDue() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        desk.run(80)
        #expect(desk.explain(at: 80) == "instagram down for 1m20s; failover in 1m40s (grace 3m)")
    }

    @Test func healthyPlatformsSayWhatWouldFailOver() {
        var desk = EngineDesk(failoverPolicy(on: [.instagram, .facebook], when: .all))
        desk.set(.instagram, to: .operational, since: 0)
        desk.set(.facebook, to: .degraded, since: 3420)
        #expect(desk.explain(at: 3600) == "no failover: instagram operational for 1h, facebook degraded for 3m "
                + "(fails over when all are down for 3m)")
    }

    @Test func anOpenIncidentCountsDownToTheAllClear() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        #expect(desk.explain(at: 300) == "failed over for 2m (incident #1): instagram down for 5m; "
                + "all-clear once clear for 5m (recovery grace)")
        desk.set(.instagram, to: .operational, since: 600)
        desk.run(600)
        #expect(desk.explain(at: 680) == "failed over for 8m20s (incident #1): instagram operational for 1m20s; "
                + "all-clear in 3m40s (recovery grace 5m)")
    }

    @Test func aManualFailoverSaysOnlyAnOperatorEndsIt() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .operational, since: 0)
        desk.failOverByHand(at: 60)
        desk.run(120)
        #expect(desk.explain(at: 120) == "failed over by hand for 1m (incident #1): instagram operational for 2m; "
                + "only `detour failover stop` ends it")
    }

    @Test func aHoldSaysWhyTheFailoverWaits() {
        var desk = EngineDesk(failoverPolicy())
        desk.overrides.holds = [.rosies: at(3600)]
        desk.set(.instagram, to: .down, since: 0)
        desk.run(600)
        #expect(desk.explain(at: 600) == "instagram down for 10m; past the grace (3m); on hold for another 50m: no failover")
    }

    @Test func aStopByHandSaysTheProbesWaitForClear() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        desk.stopByHand(at: 240)
        desk.run(300)
        #expect(desk.explain(at: 300) == "instagram down for 5m; past the grace (3m); no automatic failover until "
                + "the platforms have been clear once (failover stopped by hand); it would continue incident #1 "
                + "(all-clear 1m ago, cooldown 10m)")
    }

    @Test func aBusinessWithoutAPolicySaysSo() {
        let desk = EngineDesk(failoverPolicy())
        #expect(desk.explain(.corner, at: 0) == "not in the policies directory")
    }
}
