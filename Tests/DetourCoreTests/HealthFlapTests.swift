import Foundation
import Testing
import DetourCore

/// A platform that keeps going down and coming back is held down until it is stable.
@Suite struct HealthFlapTests {
    /// Down after one failing round, back after one healthy round, flapping past three changes in 10m.
    func twitchy(window: TimeSpan = .minutes(10)) -> Rounds {
        Rounds {
            $0.failureThreshold = 1
            $0.successThreshold = 1
            $0.flap.maxTransitions = 3
            $0.flap.window = window
            $0.flap.stableFor = .minutes(5)
        }
    }

    @Test func aFlappingPlatformIsHeldDownUntilStable() {
        var rounds = twitchy()
        #expect(rounds.states([0], allFailing) == [.down])
        #expect(rounds.states([30], allOk) == [.operational])
        #expect(rounds.states([60], allFailing) == [.down])
        // A fourth change would be more than three in 10m: held down.
        #expect(rounds.round(90, allOk) == nil)
        #expect(rounds.state == .down)
        #expect(rounds.reason == "held down for flapping (more than 3 changes in 10m) "
                + "until no failing round for 5m: 3 of 3 probes ok")
        // Stable means five minutes since the last failing round (at 60s).
        let held = rounds.states(stride(from: 120, through: 330, by: 30).map { $0 }, allOk)
        #expect(held.allSatisfy { $0 == .down })
        let released = rounds.round(360, allOk)
        #expect(released?.from == .down)
        #expect(released?.to == .operational)
        #expect(released?.reason == "3 of 3 probes ok")
    }

    @Test func aFailingRoundWhileHeldRestartsTheStableTime() {
        var rounds = twitchy()
        _ = rounds.states([0], allFailing)
        _ = rounds.states([30], allOk)
        _ = rounds.states([60], allFailing)
        _ = rounds.states([90, 120], allOk)
        #expect(rounds.states([150], allFailing) == [.down])
        let held = rounds.states(stride(from: 180, through: 420, by: 30).map { $0 }, allOk)
        #expect(held.allSatisfy { $0 == .down })
        #expect(rounds.states([450], allOk) == [.operational])
    }

    @Test func changesOlderThanTheWindowDoNotCountAsFlapping() {
        var rounds = twitchy(window: .minutes(2))
        _ = rounds.states([0], allFailing)
        _ = rounds.states([30], allOk)
        _ = rounds.states([60], allFailing)
        // The changes at 0s and 30s are more than 2m old at 200s: only two changes in the window.
        #expect(rounds.states([200], allOk) == [.operational])
    }

    @Test func theSameChangesInsideTheWindowCountAsFlapping() {
        var rounds = twitchy(window: .minutes(10))
        _ = rounds.states([0], allFailing)
        _ = rounds.states([30], allOk)
        _ = rounds.states([60], allFailing)
        #expect(rounds.states([200], allOk) == [.down])
    }

    @Test func flappingDetectedOnTheWayDownHoldsThePlatformDown() {
        var rounds = Rounds { $0.failureThreshold = 1; $0.successThreshold = 1 }
        let states = [0, 30, 60, 90, 120].map { (t: Double) -> PlatformState? in
            rounds.round(t, Int(t) % 60 == 0 ? allFailing : allOk)
            return rounds.state
        }
        #expect(states == [.down, .operational, .down, .operational, .down])
        #expect(rounds.reason?.hasPrefix("held down for flapping (more than 4 changes in 10m) "
                                         + "until no failing round for 10m: 3 of 3 probes failing: ") == true)
        #expect(rounds.states([150], allOk) == [.down])
        #expect(rounds.states([720], allOk) == [.operational])
    }

    @Test func aReleasedPlatformStartsWithACleanFlapHistory() {
        var rounds = twitchy()
        _ = rounds.states([0], allFailing)
        _ = rounds.states([30], allOk)
        _ = rounds.states([60], allFailing)
        _ = rounds.states([90], allOk)
        #expect(rounds.states([360], allOk) == [.operational])
        // Release was one change; down and back are two more: three in the window is not more than three.
        #expect(rounds.states([390], allFailing) == [.down])
        #expect(rounds.states([420], allOk) == [.operational])
    }
}
