import Foundation
import Testing
import DetourCore

/// Control probes tell our own outage from the platform's.
@Suite struct HealthControlTests {
    @Test func failingControlsMakeAFailingPlatformUnknown() {
        var rounds = Rounds()
        rounds.round(0, allOk)
        let transition = rounds.round(30, allFailing, controls: controlsDown)
        #expect(transition == StatusTransition(
            platform: .instagram, from: .operational, to: .unknown,
            reason: "our own network is down: 2 of 3 control probes failing: dns www.wikipedia.org SERVFAIL; "
                + "https://www.google.com/generate_204 timed out after 10s",
            at: at(30)))
    }

    @Test func failingControlsMakeADegradedPlatformUnknown() {
        var rounds = Rounds()
        rounds.round(0, ownProbes(failing: [Probe.tcp]), controls: controlsDown)
        #expect(rounds.state == .unknown)
    }

    @Test func aPlatformWhoseProbesAllPassIsJudgedNormallyWhenControlsFail() {
        var rounds = Rounds()
        rounds.round(0, allOk, controls: controlsDown)
        #expect(rounds.state == .operational)
    }

    @Test func aMinorityOfFailingControlsIsNotOurNetwork() {
        var rounds = Rounds { $0.failureThreshold = 1 }
        let oneControlFailing = [failing(Probe.controlDNS), ok(Probe.controlGoogle), ok(Probe.controlCloudflare)]
        rounds.round(0, allFailing, controls: oneControlFailing)
        #expect(rounds.state == .down)
    }

    @Test func noControlsMeansNoNetworkVerdict() {
        var rounds = Rounds { $0.failureThreshold = 1 }
        rounds.round(0, allFailing, controls: [])
        #expect(rounds.state == .down)
    }

    @Test func controlsThatCannotTellAreLeftOut() {
        // 1 of 1 control that could tell is failing: our network.
        var rounds = Rounds()
        let controls = [failing(Probe.controlDNS, "SERVFAIL"), cannotTell(Probe.controlGoogle), cannotTell(Probe.controlCloudflare)]
        rounds.round(0, allFailing, controls: controls)
        #expect(rounds.reason == "our own network is down: 1 of 1 control probes failing: dns www.wikipedia.org SERVFAIL")
    }

    @Test func failingRoundsDuringOurOutageDoNotCountTowardsDown() {
        var rounds = Rounds()
        #expect(rounds.states([0], allFailing) == [.degraded])
        #expect(rounds.states([30, 60, 90, 120], allFailing, controls: controlsDown) == [.unknown, .unknown, .unknown, .unknown])
        #expect(rounds.states([150], allFailing) == [.degraded])
        #expect(rounds.states([180], allFailing) == [.down])
    }

    @Test func healthyRoundsDuringOurOutageDoNotCountTowardsRecovery() {
        var rounds = Rounds()
        _ = rounds.states([0, 30, 60], allFailing)
        rounds.round(90, allOk)
        #expect(rounds.states([120, 150], allFailing, controls: controlsDown) == [.unknown, .unknown])
        // One healthy round before the outage and one after: the success threshold of two is met.
        #expect(rounds.states([180], allOk) == [.operational])
    }

    @Test func aDownPlatformStaysDownWhenOurNetworkComesBackUntilTheSuccessThreshold() {
        var rounds = Rounds()
        _ = rounds.states([0, 30, 60], allFailing)
        rounds.round(90, allFailing, controls: controlsDown)
        #expect(rounds.state == .unknown)
        let back = rounds.round(120, allOk)
        #expect(back?.from == .unknown)
        #expect(back?.to == .down)
        #expect(rounds.reason == "recovering, 1 of 2 healthy rounds so far: 3 of 3 probes ok")
        #expect(rounds.states([150], allOk) == [.operational])
    }

    @Test func aDownPlatformStillFailingWhenOurNetworkComesBackIsDownAgain() {
        var rounds = Rounds()
        _ = rounds.states([0, 30, 60], allFailing)
        rounds.round(90, allFailing, controls: controlsDown)
        #expect(rounds.states([120], allFailing) == [.down])
    }
}
