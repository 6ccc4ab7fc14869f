import Foundation
import Testing
import DetourCore

/// When the all-clear goes out: the condition clear, nothing unknown, for the recovery grace, by the engine's own timer.
@Suite struct EngineResolveTests {
    /// Instagram down from 0, an incident opened at 180 and recorded.
    func failedOver(_ policy: Policy = failoverPolicy()) -> EngineDesk {
        var desk = EngineDesk(policy)
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        return desk
    }

    @Test func resolvesOnceClearForTheRecoveryGrace() {
        var desk = failedOver()
        desk.set(.instagram, to: .operational, since: 600)
        #expect(desk.run(600) == [])
        #expect(desk.run(899) == [])
        #expect(desk.run(900) == [.resolve(.rosies, incident: 1,
                                           reason: "instagram operational for 5m; clear for 5m (recovery grace 5m)")])
        #expect(desk.store[.rosies]?.isOpen == false)
    }

    @Test func theRecoveryTimerStartsAtTheFirstClearTickNotAtTheStatusSince() {
        var desk = failedOver()
        desk.set(.instagram, to: .operational, since: 200)
        // The engine first sees it clear at 600, however long the status says it has been up.
        #expect(desk.run(600) == [])
        #expect(desk.run(899) == [])
        #expect(desk.run(900).map(\.kind) == ["resolve"])
    }

    @Test func anUnknownPlatformResetsTheRecoveryTimer() {
        var desk = failedOver()
        desk.set(.instagram, to: .operational, since: 600)
        desk.run(600)
        desk.set(.instagram, to: .unknown, since: 700)
        #expect(desk.run(700) == [])
        desk.set(.instagram, to: .operational, since: 800)
        #expect(desk.run([800, 900, 1099]) == [])
        #expect(desk.run(1100).map(\.kind) == ["resolve"])
    }

    @Test func neverResolvesWhileAPlatformItDependsOnIsUnknown() {
        var desk = failedOver(failoverPolicy(on: [.instagram, .whatsapp]))
        desk.set(.instagram, to: .operational, since: 600)
        desk.set(.whatsapp, to: .unknown, since: 600)
        #expect(desk.run(stride(from: 600, through: 7200, by: 60)) == [])
        desk.statuses[.whatsapp] = nil
        #expect(desk.run(stride(from: 7260, through: 14400, by: 60)) == [])
    }

    @Test func goingDownAgainResetsTheRecoveryTimer() {
        var desk = failedOver()
        desk.set(.instagram, to: .operational, since: 600)
        desk.run(600)
        desk.set(.instagram, to: .down, since: 840)
        #expect(desk.run(840) == [])
        desk.set(.instagram, to: .operational, since: 870)
        #expect(desk.run([870, 900, 1169]) == [])
        #expect(desk.run(1170).map(\.kind) == ["resolve"])
    }

    @Test func anAllPolicyResolvesWhenOnePlatformIsBack() {
        var desk = EngineDesk(failoverPolicy(on: [.instagram, .facebook], when: .all))
        desk.set(.instagram, .facebook, to: .down, since: 0)
        desk.run(180)
        desk.set(.facebook, to: .degraded, since: 600)
        desk.run(600)
        #expect(desk.run(900).map(\.reason)
                == ["instagram down for 15m, facebook degraded for 5m; clear for 5m (recovery grace 5m)"])
    }

    @Test func aManualIncidentIsNeverResolvedByTheProbes() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .operational, since: 0)
        desk.failOverByHand(at: 10)
        // Even once the override is gone from the overrides (only the incident's origin says manual).
        desk.overrides = EngineOverrides()
        #expect(desk.run(stride(from: 0, through: 7200, by: 60)) == [])
    }

    @Test func aBusinessFailedOverByHandIsNeitherResolvedNorOpenedByTheProbes() {
        var desk = failedOver()
        desk.overrides.manualFailover = [.rosies]
        desk.set(.instagram, to: .operational, since: 600)
        #expect(desk.run(stride(from: 600, through: 7200, by: 60)) == [])

        var idle = EngineDesk(failoverPolicy())
        idle.overrides.manualFailover = [.rosies]
        idle.set(.instagram, to: .down, since: 0)
        #expect(idle.run(stride(from: 0, through: 3600, by: 60)) == [])
    }

    @Test func aRecoveryGraceOfZeroResolvesAtTheFirstClearTick() {
        var desk = failedOver(failoverPolicy(recoveryGrace: .zero))
        desk.set(.instagram, to: .operational, since: 600)
        #expect(desk.run(600).map(\.kind) == ["resolve"])
    }

    @Test func anIncidentFromTheStoreAtStartIsResolvedLikeAnyOther() {
        var desk = EngineDesk(failoverPolicy(), latest: [
            .rosies: BusinessIncident(id: 41, origin: .probes, platforms: [.instagram], openedAt: at(-3600)),
        ])
        desk.set(.instagram, to: .operational, since: -1800)
        #expect(desk.run(0) == [])
        #expect(desk.run(300).map { [$0.kind, $0.business.rawValue] } == [["resolve", "rosies-bakery"]])
    }
}
