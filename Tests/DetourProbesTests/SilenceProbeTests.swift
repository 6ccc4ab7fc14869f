import DetourCore
@testable import DetourProbes
import Foundation
import Testing

/// Silence as a signal, on a clock the test sets: open hours in the business's time zone, silence
/// counted only in open hours, and only for a NAME and TOKEN a probe expects.
struct SilenceProbeTests {
    static func at(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }
    static let token = "sig-0123456789abcdef"

    final class Clock: @unchecked Sendable { var now: Date; init(_ d: Date) { now = d } }

    func probe(_ hours: [String], every: TimeSpan = .minutes(30), board: SignalBoard, clock: Clock, zone: String = "Europe/London") -> SilenceProbe {
        let open = hours.isEmpty ? OpenHours.always(timeZone: zone)
            : OpenHours(spans: hours.compactMap(OpenHours.span), timeZone: zone, text: hours)
        return SilenceProbe(check: SilenceCheck(name: "salon", token: Secret(Self.token, origin: "env:T"), expectEvery: every, openHours: open),
                            board: board, now: { clock.now })
    }

    @Test func openHoursReadAsPeopleWriteThem() throws {
        let weekdays = try #require(OpenHours.span("Mon-Fri 09:00-18:00"))
        #expect(weekdays.weekdays == [2, 3, 4, 5, 6] && weekdays.start == 540 && weekdays.end == 1080)
        #expect(OpenHours.span("Sat,Sun 10:00-16:00")?.weekdays == [7, 1])
        #expect(OpenHours.span("Fri-Mon 20:00-23:00")?.weekdays == [6, 7, 1, 2], "a range may wrap past Sunday")
        #expect(OpenHours.span("Daily 08:00-20:00")?.weekdays.count == 7)
        #expect(OpenHours.span("Mon-Fri 18:00-09:00") == nil && OpenHours.span("Someday 09:00-10:00") == nil && OpenHours.span("09:00-10:00") == nil)
        let hours = OpenHours(spans: [weekdays], timeZone: "Europe/London", text: ["Mon-Fri 09:00-18:00"])
        // Sunday 29 Nov 2026 noon in London is closed; Monday 30 Nov 09:00 is open.
        #expect(!hours.isOpen(at: Self.at("2026-11-29T12:00:00Z")) && hours.isOpen(at: Self.at("2026-11-30T09:00:00Z")))
        // Friday 18:00 → Monday 09:10: only the ten minutes of Monday count.
        let counted = hours.openTime(from: Self.at("2026-11-27T18:00:00Z"), to: Self.at("2026-11-30T09:10:00Z"), limit: 3600)
        #expect(counted == 600, "\(counted)")
    }

    @Test func silenceInOpenHoursFailsAndASignalClearsIt() async {
        let board = SignalBoard(since: Self.at("2026-11-30T06:00:00Z"))
        let clock = Clock(Self.at("2026-11-30T12:00:00Z"))
        let p = probe(["Mon-Fri 09:00-18:00"], board: board, clock: clock)
        var r = await p.run()
        #expect(r.verdict == .failing && r.detail.contains("no inbound message since Detour started"), "\(r)")
        #expect(board.signal(name: "salon", token: Self.token, at: Self.at("2026-11-30T11:50:00Z")))
        r = await p.run()
        #expect(r.verdict == .ok && r.detail == "last inbound message 10m ago", "\(r)")
        clock.now = Self.at("2026-11-30T12:15:00Z")
        #expect(await p.run().verdict == .ok)
        clock.now = Self.at("2026-11-30T12:21:00Z").addingTimeInterval(30 * 60)
        r = await p.run()
        #expect(r.verdict == .failing && r.detail.hasPrefix("no inbound message for 61m"), "\(r)")
    }

    @Test func silenceOutsideOpenHoursSaysNothingAndTheNightDoesNotCount() async {
        let board = SignalBoard(since: Self.at("2026-11-20T00:00:00Z"))
        _ = board.signal(name: "salon", token: Self.token)  // not expected yet: ignored
        let clock = Clock(Self.at("2026-11-29T03:00:00Z"))  // Sunday, 3 am
        let p = probe(["Mon-Sat 09:00-18:00"], board: board, clock: clock)
        #expect(board.signal(name: "salon", token: Self.token, at: Self.at("2026-11-28T17:55:00Z")))
        let night = await p.run()
        #expect(night.verdict == .unknown && night.detail.hasPrefix("outside open hours"), "\(night)")
        clock.now = Self.at("2026-11-30T09:20:00Z")  // Monday morning: 5 + 20 minutes of open time
        #expect(await p.run().verdict == .ok)
    }

    @Test func aSignalCountsOnlyForANameAndTokenAProbeExpects() {
        let board = SignalBoard()
        #expect(!board.signal(name: "salon", token: Self.token))
        _ = probe([], board: board, clock: Clock(Date()))
        #expect(!board.signal(name: "salon", token: "wrong-token-0123456789") && !board.signal(name: "other", token: Self.token))
        #expect(board.signal(name: "salon", token: Self.token))
    }

    @Test func aDaemonThatJustStartedWaitsBeforeCallingSilenceAnOutage() async {
        let start = Self.at("2026-11-30T12:00:00Z")
        let board = SignalBoard(since: start)
        let clock = Clock(start.addingTimeInterval(600))
        let r = await probe([], board: board, clock: clock).run()
        #expect(r.verdict == .unknown && r.detail.contains("no inbound message yet"), "\(r)")
    }
}
