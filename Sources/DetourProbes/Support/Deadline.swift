import Foundation

/// Races work against a time limit, and abandons the work when the limit wins.
///
/// Used where the work may not stop by itself: a `getaddrinfo` call cannot be cancelled, and a probe
/// written by someone else may ignore cancellation. The loser is cancelled but never awaited, so the
/// caller gets an answer at the limit even if the work runs on.
enum Deadline {
    /// The work's value, or nil when `limit` passed first or the calling task was cancelled.
    static func run<T: Sendable>(within limit: Duration, _ work: @escaping @Sendable () async -> T) async -> T? {
        let gate = OneShot<T?>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
                gate.install(continuation)
                let worker = Task { gate.resume(with: await work()) }
                let timer = Task {
                    // Only a completed sleep may report a timeout; a cancelled timer just ends.
                    guard (try? await Task.sleep(for: limit)) != nil else { return }
                    gate.resume(with: nil)
                }
                gate.onFinish { worker.cancel(); timer.cancel() }
            }
        } onCancel: {
            gate.resume(with: nil)
        }
    }

    /// Runs blocking work on its own thread, off the cooperative pool, and waits at most `limit` for it.
    ///
    /// On timeout the thread is left to finish on its own; its value is dropped.
    static func runBlocking<T: Sendable>(within limit: Duration, _ work: @escaping @Sendable () -> T) async -> T? {
        await run(within: limit) {
            await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
                let thread = Thread { continuation.resume(returning: work()) }
                thread.name = "detour-probe-blocking"
                thread.start()
            }
        }
    }
}

/// A continuation that is resumed exactly once, by whichever side gets there first, even if that
/// happens before the continuation exists (a cancellation handler can run first).
final class OneShot<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var value: T?
    private var finished = false
    private var cleanup: [@Sendable () -> Void] = []

    func install(_ c: CheckedContinuation<T, Never>) {
        lock.lock()
        if finished, let value {
            lock.unlock()
            c.resume(returning: value)
            return
        }
        continuation = c
        lock.unlock()
    }

    func resume(with v: T) {
        lock.lock()
        guard !finished else { lock.unlock(); return }
        finished = true
        let c = continuation
        continuation = nil
        if c == nil { value = v }
        let jobs = cleanup
        cleanup = []
        lock.unlock()
        c?.resume(returning: v)
        for job in jobs { job() }
    }

    /// Runs `job` once the gate is resumed (at once if it already was).
    func onFinish(_ job: @escaping @Sendable () -> Void) {
        lock.lock()
        if finished { lock.unlock(); job(); return }
        cleanup.append(job)
        lock.unlock()
    }
}
