import Foundation
import Testing
import DetourCore

/// A failure soon after the all-clear continues the same incident.
@Suite struct EngineCooldownTests {
    /// Incident 1 opened at 180 and resolved at 900 (instagram back at 600).
    func resolved(_ policy: Policy = failoverPolicy()) -> EngineDesk {
        var desk = EngineDesk(policy)
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        desk.set(.instagram, to: .operational, since: 600)
        desk.run([600, 900])
        return desk
    }

    @Test func aFailureWithinTheCooldownReopensTheSameIncident() {
        var desk = resolved()
        #expect(desk.store[.rosies]?.resolvedAt == at(900))
        desk.set(.instagram, to: .down, since: 1000, reason: "HTTP 503")
        #expect(desk.run(1179) == [])
        #expect(desk.run(1180) == [.reopen(.rosies, incident: 1, platforms: [.instagram],
                                           reason: "down again 4m40s after the all-clear (cooldown 10m): instagram down for 3m: HTTP 503")])
        #expect(desk.store[.rosies]?.isOpen == true)
    }

    @Test func theCooldownCountsFromTheAllClearToTheEndOfTheGrace() {
        var desk = resolved()
        // Down at 1300; the grace ends at 1480, 9m40s after the all-clear: still the same incident.
        desk.set(.instagram, to: .down, since: 1300)
        #expect(desk.run(1480).map(\.kind) == ["reopen"])

        var later = resolved()
        // Down at 1400; the grace ends at 1580, 11m after the all-clear: a new incident.
        later.set(.instagram, to: .down, since: 1400)
        #expect(later.run(1580) == [.open(.rosies, platforms: [.instagram],
                                          reason: "instagram down for 3m: " + sampleReason(.down))])
        #expect(later.store[.rosies]?.id == 2)
    }

    @Test func aReopenedIncidentResolvesAgain() {
        var desk = resolved()
        desk.set(.instagram, to: .down, since: 1000)
        desk.run(1180)
        desk.set(.instagram, to: .operational, since: 1300)
        #expect(desk.run([1300, 1600]).map { "\($0.kind) \($0.reason.prefix(9))" } == ["resolve instagram"])
        #expect(desk.store[.rosies]?.id == 1)
    }

    @Test func anIncidentStoppedByHandIsNotContinuedByTheProbes() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .operational, since: 0)
        desk.failOverByHand(at: 0)
        desk.stopByHand(at: 300)
        desk.run(310)
        desk.set(.instagram, to: .down, since: 320)
        #expect(desk.run(500).map(\.kind) == ["open"])
        #expect(desk.store[.rosies]?.id == 2)
    }

    @Test func aResolvedIncidentFromTheStoreAtStartIsContinuedWithinTheCooldown() {
        var desk = EngineDesk(failoverPolicy(), latest: [
            .rosies: BusinessIncident(id: 7, origin: .probes, platforms: [.instagram], openedAt: at(-3600), resolvedAt: at(-120)),
        ])
        desk.set(.instagram, to: .down, since: -60)
        #expect(desk.tick(120).map(\.kind) == ["reopen"])
    }
}

/// Holds (maintenance windows) and an operator's stop keep the probes from failing over.
@Suite struct EngineHoldTests {
    @Test func aBusinessOnHoldDoesNotFailOver() {
        var desk = EngineDesk(failoverPolicy())
        desk.overrides.holds = [.rosies: nil]
        desk.set(.instagram, to: .down, since: 0)
        #expect(desk.run(stride(from: 0, through: 3600, by: 60)) == [])
    }

    @Test func aHoldEndsAtItsTimeAndThenTheFailoverIsDue() {
        var desk = EngineDesk(failoverPolicy())
        desk.overrides.holds = [.rosies: at(600)]
        desk.set(.instagram, to: .down, since: 0)
        #expect(desk.run(stride(from: 0, through: 599, by: 60)) == [])
        // Down for longer than the grace already: it opens at the first tick after the hold.
        #expect(desk.run(600).map(\.kind) == ["open"])
    }

    @Test func aHoldAlsoStopsAReopen() {
        var desk = EngineDesk(failoverPolicy(), latest: [
            .rosies: BusinessIncident(id: 7, origin: .probes, platforms: [.instagram], openedAt: at(-3600), resolvedAt: at(-60)),
        ])
        desk.overrides.holds = [.rosies: at(3600)]
        desk.set(.instagram, to: .down, since: 0)
        #expect(desk.run(stride(from: 0, through: 540, by: 60)) == [])
    }

    @Test func anOpenIncidentOnHoldStillGetsTheAllClear() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        desk.overrides.holds = [.rosies: nil]
        desk.set(.instagram, to: .operational, since: 600)
        desk.run(600)
        #expect(desk.run(900).map(\.kind) == ["resolve"])
    }

    @Test func afterAStopByHandTheProbesWaitUntilTheConditionHasBeenClear() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        desk.stopByHand(at: 300)
        #expect(desk.run(stride(from: 300, through: 3600, by: 60)) == [])
        // Unknown is not clear.
        desk.set(.instagram, to: .unknown, since: 3600)
        desk.run(3620)
        desk.set(.instagram, to: .down, since: 3640)
        #expect(desk.run(stride(from: 3640, through: 7200, by: 60)) == [])
        // One clear tick lifts it; the next outage fails over again.
        desk.set(.instagram, to: .operational, since: 7210)
        desk.run(7210)
        desk.set(.instagram, to: .down, since: 7220)
        #expect(desk.run(7399) == [])
        #expect(desk.run(7400).map(\.kind) == ["open"])
    }

    @Test func afterAStopByHandWithinTheCooldownTheNextOutageContinuesTheIncident() {
        var desk = EngineDesk(failoverPolicy(cooldown: .hours(1)))
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        desk.stopByHand(at: 300)
        desk.set(.instagram, to: .operational, since: 400)
        desk.run(400)
        desk.set(.instagram, to: .down, since: 500)
        #expect(desk.run(680).map(\.kind) == ["reopen"])
    }
}
