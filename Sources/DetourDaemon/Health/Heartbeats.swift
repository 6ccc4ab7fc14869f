import Synchronization

/// Whether the daemon's loops are actually turning: the decision loop and each channel's delivery
/// loop beat every time round, and a loop that has not beaten within its limit is stalled.
///
/// systemd's watchdog keep-alive and `/healthz` ask this, so a daemon whose decisions or deliveries
/// are stuck (a wedged actor, a store that never answers) is reported unhealthy and restarted,
/// instead of a process that merely still answers HTTP.
public final class Heartbeats: Sendable {
    /// One loop that failed to beat in time.
    public struct Stall: Sendable, Hashable, CustomStringConvertible {
        public var loop: String
        /// How long since its last beat.
        public var silentFor: Duration
        public var limit: Duration
        public var description: String {
            "\(loop) has not turned for \(Self.seconds(silentFor)) (limit \(Self.seconds(limit)))"
        }
        static func seconds(_ d: Duration) -> String {
            let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            return s < 10 ? "\((s * 10).rounded() / 10) s" : "\(Int(s)) s"
        }
    }

    private struct Entry { var last: ContinuousClock.Instant; var limit: Duration }
    private let entries = Mutex<[String: Entry]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameter now: the clock beats are read on; tests pass one they drive.
    public init(now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.now = now
    }

    /// Starts watching `loop`: it counts as having beaten now, and is stalled once `limit` passes without a beat.
    public func register(_ loop: String, limit: Duration) {
        let at = now()
        entries.withLock { $0[loop] = Entry(last: at, limit: limit) }
    }

    /// `loop` went round once. A loop that was never registered is ignored.
    public func beat(_ loop: String) {
        let at = now()
        entries.withLock { $0[loop]?.last = at }
    }

    /// Stops watching `loop` (it ended on purpose, e.g. at shutdown).
    public func unregister(_ loop: String) {
        _ = entries.withLock { $0.removeValue(forKey: loop) }
    }

    /// Every loop that has not beaten within its limit, by name.
    public func stalls() -> [Stall] {
        let at = now()
        return entries.withLock { entries in
            entries.compactMap { name, e in
                let silent = e.last.duration(to: at)
                return silent > e.limit ? Stall(loop: name, silentFor: silent, limit: e.limit) : nil
            }
        }.sorted { $0.loop < $1.loop }
    }

    /// The loops watched now.
    public var loops: [String] { entries.withLock { $0.keys.sorted() } }
}
