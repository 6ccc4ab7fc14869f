import Foundation

/// A clock that only moves when a test says so, and remembers every deadline it was asked to sleep until.
final class ManualClock: Clock, @unchecked Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper { var id: Int; var deadline: Instant; var continuation: CheckedContinuation<Void, any Error> }

    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    private var sleepers: [Sleeper] = []
    private var cancelled: Set<Int> = []
    private var nextID = 0
    private var requested: [Instant] = []

    var now: Instant { lock.withLock { current } }
    var minimumResolution: Duration { .zero }

    /// Every deadline passed to `sleep(until:)` so far, as offsets from the clock's start.
    var sleepRequests: [Duration] { lock.withLock { requested.map(\.offset) } }
    /// How many sleeps are waiting now.
    var waiting: Int { lock.withLock { sleepers.count } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id: Int = lock.withLock { requested.append(deadline); nextID += 1; return nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                lock.lock()
                if cancelled.contains(id) { lock.unlock(); c.resume(throwing: CancellationError()); return }
                if deadline <= current { lock.unlock(); c.resume(); return }
                sleepers.append(Sleeper(id: id, deadline: deadline, continuation: c))
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            cancelled.insert(id)
            let index = sleepers.firstIndex { $0.id == id }
            let sleeper = index.map { sleepers.remove(at: $0) }
            lock.unlock()
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time to `offset` from the start and wakes every sleep that is due.
    func advance(to offset: Duration) {
        lock.lock()
        current = Instant(offset: max(offset, current.offset))
        let due = sleepers.filter { $0.deadline <= current }
        sleepers.removeAll { $0.deadline <= current }
        lock.unlock()
        for sleeper in due { sleeper.continuation.resume() }
    }
}

/// Waits, in real time, until `condition` holds or `limit` passes; returns whether it held.
func eventually(within limit: Duration = .seconds(5), _ condition: @Sendable () -> Bool) async -> Bool {
    let end = ContinuousClock.now + limit
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}
