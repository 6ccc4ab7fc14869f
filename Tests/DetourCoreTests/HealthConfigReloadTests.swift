import Foundation
import Testing
import DetourCore

/// A config reload keeps what the tracker knows about platforms that are still watched.
@Suite struct HealthConfigReloadTests {
    @Test func aReloadKeepsTheStateOfAPlatformStillConfigured() {
        var rounds = Rounds()
        _ = rounds.states([0, 30, 60], allFailing)
        rounds.tracker.update(platforms: [platform(.instagram), platform(.facebook)], at: at(75))
        #expect(rounds.state == .down)
        #expect(rounds.status?.since == at(60))
        // Still needs two healthy rounds: a fresh platform would be operational after one.
        #expect(rounds.states([90], allOk) == [.down])
        #expect(rounds.states([120], allOk) == [.operational])
    }

    @Test func aReloadKeepsTheFailingStreak() {
        var rounds = Rounds()
        _ = rounds.states([0, 30], allFailing)
        rounds.tracker.update(platforms: [platform(.instagram)], at: at(45))
        #expect(rounds.states([60], allFailing) == [.down])
        #expect(rounds.reason == "3 of 3 probes failing for 1m: " + [Probe.dns, Probe.https, Probe.tcp]
            .map { "\($0) timed out after 10s" }.joined(separator: "; "))
    }

    @Test func newSettingsJudgeTheNextRound() {
        var rounds = Rounds()
        _ = rounds.states([0, 30], allFailing)
        rounds.tracker.update(platforms: [platform(.instagram) { $0.failureThreshold = 5 }], at: at(45))
        #expect(rounds.states([60], allFailing) == [.degraded])
        #expect(rounds.reason?.hasSuffix("(3 of 5 failing rounds before down)") == true)
    }

    @Test func aNewPlatformStartsUnknownAndARemovedOneIsForgotten() {
        var rounds = Rounds(platform(.instagram), platform(.threads))
        rounds.round(0, allOk)
        rounds.tracker.update(platforms: [platform(.whatsapp), platform(.instagram)], at: at(45))
        #expect(rounds.tracker.status(of: .threads) == nil)
        #expect(rounds.tracker.statuses == [
            PlatformStatus(platform: .whatsapp, state: .unknown, reason: "no probe round yet", since: at(45)),
            PlatformStatus(platform: .instagram, state: .operational, reason: "3 of 3 probes ok", since: at(0)),
        ])
    }
}
