import DetourCore
import Foundation
import Synchronization

/// Where the business's inbound-message handlers' signals land (`POST /signal/NAME/TOKEN` on the
/// HTTP listener) and where the silence probes read them. One per process; a signal counts only
/// for a NAME and TOKEN that a configured silence probe expects.
public final class SignalBoard: Sendable {
    public static let shared = SignalBoard()

    private struct State {
        var expected: Set<String> = []
        var last: [String: Date] = [:]
    }
    private let state = Mutex(State())
    /// When this process started listening: before any signal, silence is counted from here.
    public let since: Date

    public init(since: Date = Date()) { self.since = since }

    /// The key of NAME and TOKEN.
    static func key(_ name: String, _ token: String) -> String { name + "\u{0}" + token }

    public func expect(name: String, token: String) {
        let k = Self.key(name, token)
        state.withLock { _ = $0.expected.insert(k) }
    }

    /// Records a signal; false (and nothing recorded) for a NAME and TOKEN no probe expects.
    public func signal(name: String, token: String, at: Date = Date()) -> Bool {
        let k = Self.key(name, token)
        return state.withLock { s in
            guard s.expected.contains(k) else { return false }
            s.last[k] = at
            return true
        }
    }

    public func last(name: String, token: String) -> Date? {
        let k = Self.key(name, token)
        return state.withLock { $0.last[k] }
    }
}

/// Fails when the business's inbound messages have stopped: no signal for `expect_every` of its open
/// hours. Outside open hours, or before a daemon that just started has waited that long, it cannot
/// tell (`unknown`): silence at 3 am on a Sunday is not an outage.
public struct SilenceProbe: Probe {
    public let check: SilenceCheck
    public let label: String
    private let board: SignalBoard
    private let now: @Sendable () -> Date

    public init(check: SilenceCheck, board: SignalBoard = .shared, now: @escaping @Sendable () -> Date = { Date() }) {
        self.check = check; self.board = board; self.now = now
        label = ProbeSpec(.silence(check)).label
        board.expect(name: check.name, token: check.token.reveal())
    }

    public func run() async -> ProbeResult {
        let at = now()
        let expect = check.expectEvery.seconds
        let last = board.last(name: check.name, token: check.token.reveal())
        guard check.openHours.isOpen(at: at) else {
            return result(.unknown, "outside open hours (\(check.openHours)): silence says nothing", at)
        }
        let from = last ?? board.since
        let silent = check.openHours.openTime(from: from, to: at, limit: expect)
        if silent >= expect {
            let what = last.map { "no inbound message for \(Self.span(at.timeIntervalSince($0)))" } ?? "no inbound message since Detour started"
            return result(.failing, "\(what) (expected one every \(check.expectEvery) of open hours)", at)
        }
        if let last { return result(.ok, "last inbound message \(Self.span(at.timeIntervalSince(last))) ago", at) }
        return result(.unknown, "no inbound message yet since Detour started \(Self.span(at.timeIntervalSince(board.since))) ago", at)
    }

    static func span(_ seconds: TimeInterval) -> String {
        let s = Int(seconds.rounded())
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        return "\(s / 3600)h\(s % 3600 / 60 == 0 ? "" : " \(s % 3600 / 60)m")"
    }

    private func result(_ verdict: ProbeResult.Verdict, _ detail: String, _ at: Date) -> ProbeResult {
        ProbeResult(probe: label, verdict: verdict, detail: detail, observedAt: at)
    }
}
