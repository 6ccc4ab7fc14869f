import Foundation
import Testing
import DetourCore

@Suite struct HealthQuorumTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var quorum: Quorum
        var failingOf3: Int
        var failingRound: Bool
        var testDescription: String { "\(quorum): \(failingOf3) of 3 failing -> \(failingRound ? "failing" : "not failing")" }
    }

    static let cases: [Case] = [
        Case(quorum: .majority, failingOf3: 1, failingRound: false),
        Case(quorum: .majority, failingOf3: 2, failingRound: true),
        Case(quorum: .any, failingOf3: 1, failingRound: true),
        Case(quorum: .all, failingOf3: 2, failingRound: false),
        Case(quorum: .all, failingOf3: 3, failingRound: true),
        Case(quorum: .atLeast(2), failingOf3: 1, failingRound: false),
        Case(quorum: .atLeast(2), failingOf3: 2, failingRound: true),
        Case(quorum: .atLeast(5), failingOf3: 3, failingRound: true),
    ]

    @Test(arguments: cases)
    func aRoundFailsWhenItsQuorumOfProbesFails(_ c: Case) {
        var rounds = Rounds { $0.quorum = c.quorum; $0.failureThreshold = 1 }
        let names = Array([Probe.dns, Probe.https, Probe.tcp].prefix(c.failingOf3))
        rounds.round(0, ownProbes(failing: Set(names)))
        #expect(rounds.state == (c.failingRound ? .down : .degraded))
    }

    @Test func aMinorityOfFailingProbesIsDegraded() {
        var rounds = Rounds()
        rounds.round(0, ownProbes(failing: [Probe.tcp]))
        #expect(rounds.status?.state == .degraded)
        #expect(rounds.reason == "1 of 3 probes failing: tcp www.instagram.com:443 timed out after 10s")
    }

    @Test func aMinorityOfFailingProbesNeverTakesAPlatformDown() {
        var rounds = Rounds()
        let states = rounds.states(stride(from: 0, to: 600, by: 30).map { $0 }, ownProbes(failing: [Probe.tcp]))
        #expect(states.allSatisfy { $0 == .degraded })
    }

    @Test func aSlowProbeMakesAPlatformDegraded() {
        var rounds = Rounds()
        rounds.round(0, allOk)
        rounds.round(30, [ok(Probe.dns), slow(Probe.https), ok(Probe.tcp)])
        #expect(rounds.state == .degraded)
        #expect(rounds.reason == "1 of 3 probes slow: https://www.instagram.com/ took 6.2s")
    }

    @Test func resultsThatCannotTellAreLeftOutOfTheQuorum() {
        // Majority of 3 would need 2 failing; with one probe unable to tell, 1 of 2 is not a majority,
        // and with two unable to tell, 1 of 1 is.
        var oneUnknown = Rounds { $0.failureThreshold = 1 }
        oneUnknown.round(0, [failing(Probe.dns), ok(Probe.https), cannotTell(Probe.tcp)])
        #expect(oneUnknown.state == .degraded)

        var twoUnknown = Rounds { $0.failureThreshold = 1 }
        twoUnknown.round(0, [failing(Probe.dns), cannotTell(Probe.https), cannotTell(Probe.tcp)])
        #expect(twoUnknown.state == .down)
        #expect(twoUnknown.reason == "1 of 1 probes failing: dns www.instagram.com timed out after 10s")
    }

    @Test func aRoundWhereNoOwnProbeCanTellIsUnknown() {
        var rounds = Rounds()
        rounds.round(0, allOk)
        let transition = rounds.round(30, [cannotTell(Probe.dns, "resolver gave no answer"), cannotTell(Probe.https, "")])
        #expect(transition?.to == .unknown)
        #expect(rounds.reason == "no probe could tell: dns www.instagram.com resolver gave no answer; https://www.instagram.com/")
    }

    @Test func anEmptyRoundIsUnknown() {
        var rounds = Rounds()
        rounds.round(0, [])
        #expect(rounds.state == .unknown)
        #expect(rounds.reason == "no probe results in this round")
    }

    @Test func roundsWhereNoProbeCanTellFreezeTheStreaks() {
        var rounds = Rounds()
        let nothing = [cannotTell(Probe.dns), cannotTell(Probe.https), cannotTell(Probe.tcp)]
        #expect(rounds.states([0], allFailing) == [.degraded])
        #expect(rounds.states([30, 60, 90], nothing) == [.unknown, .unknown, .unknown])
        #expect(rounds.states([120], allFailing) == [.degraded])
        #expect(rounds.reason?.hasSuffix("(2 of 3 failing rounds before down)") == true)
        #expect(rounds.states([150], allFailing) == [.down])
        #expect(rounds.reason?.hasPrefix("3 of 3 probes failing for 2m30s: ") == true)
    }
}
