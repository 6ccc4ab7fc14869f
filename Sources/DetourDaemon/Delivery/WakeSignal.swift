import Synchronization

/// Wakes idle delivery workers at once when new deliveries are queued, instead of at their next poll.
public final class WakeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Wakes everyone waiting now, and makes the next `wait(since:)` with an older generation return at once.
    public func signal() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generation &+= 1
            let w = Array(s.waiters.values)
            s.waiters = [:]
            return w
        }
        for w in waiters { w.resume() }
    }

    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Returns when signalled after `generation`, when `timeout` passes, or when the task is cancelled.
    public func wait(since generation: UInt64, timeout: Duration, clock: any Clock<Duration> = ContinuousClock()) async {
        await Self.waitAny([(self, generation)], timeout: timeout, clock: clock)
    }

    /// Returns when any of the signals fires after its generation, or after `timeout` on `clock`.
    public static func waitAny(_ signals: [(WakeSignal, UInt64)], timeout: Duration,
                               clock: any Clock<Duration> = ContinuousClock()) async {
        await withTaskGroup(of: Void.self) { group in
            for (signal, generation) in signals { group.addTask { await signal.waitForSignal(since: generation) } }
            group.addTask { try? await clock.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal(since generation: UInt64) async {
        let id = state.withLock { s -> UInt64 in s.nextID &+= 1; return s.nextID }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.generation != generation || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
