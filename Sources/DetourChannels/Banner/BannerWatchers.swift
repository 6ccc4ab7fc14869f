import Synchronization

/// A page's live view of one business's banner: the banner as it was when the watch started, then
/// every later one. Ends when the business's banner is removed or `stop()` is called; ending it (or
/// dropping `updates`) frees its place under the per-business limit.
public struct BannerWatch: Sendable {
    /// The banner served when the watch started.
    public let current: BannerState.Entry
    /// Each banner stored after `current`. A slow reader only sees the newest (older ones are dropped).
    public let updates: AsyncStream<BannerState.Entry>
    private let continuation: AsyncStream<BannerState.Entry>.Continuation

    init(current: BannerState.Entry, updates: AsyncStream<BannerState.Entry>, continuation: AsyncStream<BannerState.Entry>.Continuation) {
        self.current = current; self.updates = updates; self.continuation = continuation
    }

    /// Ends `updates` (after any banner already waiting in it). Safe to call more than once, from anywhere.
    public func stop() { continuation.finish() }
}

/// Who is watching which business's banner, so `BannerState` wakes them when it stores a new one.
/// Kept under a lock rather than in the actor because a watch ends from outside it (a reader that
/// goes away terminates its stream synchronously).
final class BannerWatchers: Sendable {
    private typealias Continuation = AsyncStream<BannerState.Entry>.Continuation

    private struct State {
        var nextID: UInt64 = 0
        var byBusiness: [String: [UInt64: Continuation]] = [:]
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// A new watch of `business` starting at `current`, or nil when `limit` watches are already open.
    func add(business: String, current: BannerState.Entry) -> BannerWatch? {
        let (updates, continuation) = AsyncStream.makeStream(of: BannerState.Entry.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { s -> UInt64 in s.nextID &+= 1; return s.nextID }
        continuation.onTermination = { [weak self] _ in self?.remove(id, business: business) }
        let added = state.withLock { s -> Bool in
            guard s.byBusiness[business, default: [:]].count < limit else { return false }
            s.byBusiness[business, default: [:]][id] = continuation
            return true
        }
        guard added else {
            continuation.finish()
            return nil
        }
        return BannerWatch(current: current, updates: updates, continuation: continuation)
    }

    /// Hands `entry` to everyone watching `business`.
    func publish(_ entry: BannerState.Entry, for business: String) {
        for continuation in continuations(of: business) { continuation.yield(entry) }
    }

    /// Ends every watch of `business` (its banner is gone).
    func finish(business: String) {
        for continuation in continuations(of: business) { continuation.finish() }
    }

    /// How many watches of `business` are open.
    func count(for business: String) -> Int {
        state.withLock { $0.byBusiness[business]?.count ?? 0 }
    }

    private func continuations(of business: String) -> [Continuation] {
        state.withLock { s in s.byBusiness[business].map { Array($0.values) } ?? [] }
    }

    private func remove(_ id: UInt64, business: String) {
        state.withLock { s in
            s.byBusiness[business]?[id] = nil
            if s.byBusiness[business]?.isEmpty == true { s.byBusiness[business] = nil }
        }
    }
}
