import Foundation
import Testing
import DetourCore

@Suite struct HealthThresholdTests {
    @Test func aPlatformStartsUnknownBeforeAnyRound() {
        let rounds = Rounds()
        #expect(rounds.status == PlatformStatus(platform: .instagram, state: .unknown,
                                                reason: "no probe round yet", since: start))
    }

    @Test func theFirstRoundDecidesOperationalDirectly() {
        var rounds = Rounds()
        let transition = rounds.round(0, allOk)
        #expect(transition == StatusTransition(platform: .instagram, from: .unknown, to: .operational,
                                               reason: "3 of 3 probes ok", at: at(0)))
        #expect(rounds.status?.since == at(0))
    }

    @Test func theFirstRoundDecidesDegradedDirectly() {
        var rounds = Rounds()
        rounds.round(0, ownProbes(failing: [Probe.tcp]))
        #expect(rounds.state == .degraded)
    }

    @Test func aFailingFirstRoundIsNotDownYet() {
        var rounds = Rounds()
        rounds.round(0, allFailing)
        #expect(rounds.state == .degraded)
    }

    @Test func threeFailingRoundsTakeAPlatformDown() {
        var rounds = Rounds()
        rounds.round(0, allOk)
        #expect(rounds.states([30, 60], allFailing) == [.degraded, .degraded])
        let transition = rounds.round(90, allFailing)
        #expect(transition?.from == .degraded)
        #expect(transition?.to == .down)
        #expect(transition?.at == at(90))
        #expect(rounds.status?.since == at(90))
    }

    @Test func aSingleFailingRoundDoesNotTakeAPlatformDown() {
        var rounds = Rounds()
        #expect(rounds.states([0, 30, 60, 90], allOk) == [.operational, .operational, .operational, .operational])
        #expect(rounds.states([120], allFailing) == [.degraded])
        #expect(rounds.states([150, 180], allOk) == [.operational, .operational])
    }

    @Test func aHealthyRoundResetsTheFailingStreak() {
        var rounds = Rounds()
        #expect(rounds.states([0, 30], allFailing) == [.degraded, .degraded])
        rounds.round(60, allOk)
        #expect(rounds.states([90, 120], allFailing) == [.degraded, .degraded])
        #expect(rounds.states([150], allFailing) == [.down])
    }

    @Test func aThresholdOfOneGoesDownOnTheFirstFailingRound() {
        var rounds = Rounds { $0.failureThreshold = 1 }
        let transition = rounds.round(0, allFailing)
        #expect(transition?.from == .unknown)
        #expect(transition?.to == .down)
    }

    @Test func twoHealthyRoundsBringADownPlatformBack() {
        var rounds = Rounds()
        _ = rounds.states([0, 30, 60], allFailing)
        #expect(rounds.state == .down)
        #expect(rounds.round(90, allOk) == nil)
        #expect(rounds.state == .down)
        let transition = rounds.round(120, allOk)
        #expect(transition?.from == .down)
        #expect(transition?.to == .operational)
    }

    @Test func aDownPlatformComesBackDegradedWhenItsLastRoundIsDegraded() {
        var rounds = Rounds()
        _ = rounds.states([0, 30, 60], allFailing)
        rounds.round(90, allOk)
        rounds.round(120, [ok(Probe.dns), slow(Probe.https), ok(Probe.tcp)])
        #expect(rounds.state == .degraded)
    }

    @Test func aFailingRoundDuringRecoveryRestartsTheCount() {
        var rounds = Rounds()
        _ = rounds.states([0, 30, 60], allFailing)
        rounds.round(90, allOk)
        rounds.round(120, allFailing)
        #expect(rounds.states([150, 180], allOk) == [.down, .operational])
    }

    @Test func degradedRoundsCountTowardsRecovery() {
        var rounds = Rounds()
        _ = rounds.states([0, 30, 60], allFailing)
        let minority = ownProbes(failing: [Probe.tcp])
        #expect(rounds.states([90, 120], minority) == [.down, .degraded])
    }

    @Test func repeatedRoundsInTheSameStateGiveNoTransition() {
        var rounds = Rounds()
        rounds.round(0, allOk)
        #expect(rounds.round(30, allOk) == nil)
        #expect(rounds.round(60, allOk) == nil)
        #expect(rounds.status?.since == at(0))
    }

    @Test func roundsOfAPlatformNotWatchedAreIgnored() {
        var rounds = Rounds()
        #expect(rounds.round(0, allFailing, platform: .whatsapp) == nil)
        #expect(rounds.tracker.status(of: .whatsapp) == nil)
        #expect(rounds.state == .unknown)
    }
}
