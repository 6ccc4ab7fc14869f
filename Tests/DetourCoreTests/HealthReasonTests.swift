import Foundation
import Testing
import DetourCore

/// The reasons a person reads on a status.
@Suite struct HealthReasonTests {
    let outage = [failing(Probe.dns, "SERVFAIL"), failing(Probe.https, "timed out after 10s"),
                  failing(Probe.tcp, "connection refused")]
    let listed = "dns www.instagram.com SERVFAIL; https://www.instagram.com/ timed out after 10s; "
        + "tcp www.instagram.com:443 connection refused"

    @Test func aTypicalOutageReadsAsCountsDurationAndFailingProbes() {
        var rounds = Rounds()
        rounds.round(0, allOk)
        rounds.round(30, outage)
        #expect(rounds.reason == "3 of 3 probes failing: \(listed) (1 of 3 failing rounds before down)")
        rounds.round(60, outage)
        #expect(rounds.reason == "3 of 3 probes failing for 30s: \(listed) (2 of 3 failing rounds before down)")
        let down = rounds.round(90, outage)
        #expect(down?.reason == "3 of 3 probes failing for 1m: \(listed)")
        rounds.round(120, outage)
        #expect(rounds.reason == "3 of 3 probes failing for 1m30s: \(listed)")
    }

    @Test func theFailingDurationIsInWholeSeconds() {
        var rounds = Rounds()
        rounds.round(30.4, outage)
        rounds.round(61.7, outage)
        rounds.round(92.9, outage)
        #expect(rounds.reason == "3 of 3 probes failing for 1m2s: \(listed)")
    }

    @Test func aDegradedRoundNamesFailingAndSlowProbes() {
        var rounds = Rounds()
        rounds.round(0, [ok(Probe.dns), slow(Probe.https), failing(Probe.tcp, "connection refused")])
        #expect(rounds.reason == "1 of 3 probes failing, 1 slow: tcp www.instagram.com:443 connection refused; "
                + "https://www.instagram.com/ took 6.2s")
    }

    @Test func aRecoveringPlatformSaysHowFarItIs() {
        var rounds = Rounds { $0.successThreshold = 3 }
        _ = rounds.states([0, 30, 60], outage)
        rounds.round(90, allOk)
        #expect(rounds.reason == "recovering, 1 of 3 healthy rounds so far: 3 of 3 probes ok")
        rounds.round(120, [ok(Probe.dns), slow(Probe.https), ok(Probe.tcp)])
        #expect(rounds.reason == "recovering, 2 of 3 healthy rounds so far: 1 of 3 probes slow: "
                + "https://www.instagram.com/ took 6.2s")
    }

    @Test func theReasonFollowsEachRoundWithoutATransition() {
        var rounds = Rounds()
        rounds.round(0, allOk)
        #expect(rounds.round(30, [ok(Probe.dns), ok(Probe.https)]) == nil)
        #expect(rounds.reason == "2 of 2 probes ok")
    }
}
