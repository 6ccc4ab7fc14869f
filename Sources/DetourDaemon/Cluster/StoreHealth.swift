import Foundation
import Synchronization

/// Whether a cluster node can reach its PostgreSQL database, as its own loops find out: set by
/// every failed round of the cluster and leadership loops, cleared by the next one that works.
/// `/readyz` answers 503 and `detour status` names the trouble while it lasts; the node keeps
/// serving the banners it knows meanwhile.
public final class StoreHealth: Sendable {
    public struct Trouble: Sendable, Hashable, Codable {
        public var since: Date
        public var error: String
    }

    private let state = Mutex<Trouble?>(nil)

    public init() {}

    public func failed(_ error: any Error, at: Date) {
        state.withLock { t in
            if t == nil { t = Trouble(since: at, error: "\(error)") } else { t?.error = "\(error)" }
        }
    }

    public func worked() { state.withLock { $0 = nil } }

    public var trouble: Trouble? { state.withLock { $0 } }

    /// `the state database has not answered since 12:00:03Z: …`, or nil when it answers.
    public var summary: String? {
        trouble.map { "the state database has not answered since \(ISO8601DateFormatter().string(from: $0.since)): \($0.error)" }
    }
}
