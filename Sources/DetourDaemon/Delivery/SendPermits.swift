import Synchronization

/// At most `count` sends of one channel at a time; further claimed deliveries wait here, in order,
/// so the next send starts the moment one finishes instead of after a claim from the store.
final class SendPermits: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }
    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(available: max(1, count))) }

    /// Waits for a permit. Not cancellable: a claimed delivery always gets its turn (a cancelled send
    /// fails fast and hands its permit on).
    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.available > 0 { s.available -= 1; return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Hands the permit to the longest waiter, or back to the pool.
    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.head < s.waiters.count {
                let c = s.waiters[s.head]
                s.head += 1
                if s.head > 64, s.head * 2 > s.waiters.count { s.waiters.removeFirst(s.head); s.head = 0 }
                return c
            }
            s.available += 1
            return nil
        }
        next?.resume()
    }
}
