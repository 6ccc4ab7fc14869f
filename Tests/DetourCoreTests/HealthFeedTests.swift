import Foundation
import Testing
import DetourCore

/// Status feeds corroborate the platform's own probes; they never outvote them alone.
@Suite struct HealthFeedTests {
    let feedMajorOutage = failing(Probe.feed, "major outage", feed: true)

    @Test func aFailingFeedWithEveryOwnProbeOkIsAtMostDegraded() {
        var rounds = Rounds { $0.quorum = .any; $0.failureThreshold = 1 }
        let states = rounds.states([0, 30, 60, 90, 120], allOk + [feedMajorOutage])
        #expect(states == Array(repeating: .degraded, count: 5))
        #expect(rounds.reason == "status feed reports trouble, own probes ok: "
                + "status feed https://metastatus.com/data/orgs.json (Instagram) major outage")
    }

    @Test func aFailingFeedTipsACloseRoundWhenTheQuorumIsThenMet() {
        // 1 of 3 own failing plus the feed is 2 of 4: enough for "at least 2".
        var rounds = Rounds { $0.quorum = .atLeast(2); $0.failureThreshold = 1 }
        rounds.round(0, ownProbes(failing: [Probe.https]) + [feedMajorOutage])
        #expect(rounds.state == .down)
        #expect(rounds.reason == "2 of 4 probes failing: https://www.instagram.com/ timed out after 10s; "
                + "status feed https://metastatus.com/data/orgs.json (Instagram) major outage")
    }

    @Test func aFailingFeedDoesNotTipACloseRoundWhenTheQuorumIsStillNotMet() {
        // 1 of 3 own failing plus the feed is 2 of 4: not a majority.
        var rounds = Rounds { $0.quorum = .majority; $0.failureThreshold = 1 }
        rounds.round(0, ownProbes(failing: [Probe.https]) + [feedMajorOutage])
        #expect(rounds.state == .degraded)
        #expect(rounds.reason?.hasPrefix("2 of 4 probes failing: ") == true)
    }

    @Test func withoutTheFeedTheSameCloseRoundIsNotFailing() {
        var rounds = Rounds { $0.quorum = .atLeast(2); $0.failureThreshold = 1 }
        rounds.round(0, ownProbes(failing: [Probe.https]) + [ok(Probe.feed, feed: true)])
        #expect(rounds.state == .degraded)
    }

    @Test func aFailingFeedTipsABuiltInPlatformWithOneOfItsTwoOwnProbesFailing() {
        // Built-in platforms have two own probes and a feed: 1 own + the feed is 2 of 3, a majority.
        var rounds = Rounds { $0.failureThreshold = 1 }
        rounds.round(0, [failing(Probe.dns, "SERVFAIL"), ok(Probe.https), feedMajorOutage])
        #expect(rounds.state == .down)
    }

    @Test func anOkFeedNeverCancelsAQuorumOfFailingOwnProbes() {
        var rounds = Rounds { $0.failureThreshold = 1 }
        rounds.round(0, ownProbes(failing: [Probe.dns, Probe.https]) + [ok(Probe.feed, feed: true)])
        #expect(rounds.state == .down)
        #expect(rounds.reason?.hasPrefix("2 of 3 probes failing: ") == true)
    }

    @Test func aSlowFeedMakesAPlatformDegraded() {
        var rounds = Rounds()
        rounds.round(0, allOk + [slow(Probe.feed, "minor outage", feed: true)])
        #expect(rounds.state == .degraded)
    }

    @Test func aFeedThatCannotTellChangesNothing() {
        var rounds = Rounds()
        rounds.round(0, allOk + [cannotTell(Probe.feed, feed: true)])
        #expect(rounds.state == .operational)
    }

    @Test func aFeedAloneCannotTellForThePlatform() {
        var rounds = Rounds { $0.failureThreshold = 1 }
        rounds.round(0, [feedMajorOutage])
        #expect(rounds.state == .unknown)
    }
}
