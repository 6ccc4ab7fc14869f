import CCurl
import CurlShim
import Foundation

/// The loop a `CurlLoopThread` runs on its own thread.
protocol CurlLoopBody: AnyObject, Sendable {
    /// Drives `multi` until `CurlLoopThread.takeCommands()` says to stop, then calls
    /// `CurlLoopThread.finish(_:)` and returns. Called once, on the loop's thread.
    func run(on multi: UnsafeMutableRawPointer)
}

/// One libcurl multi handle, the dedicated thread that drives it, and the locked queue of commands
/// that callers on other threads hand that thread: the part the HTTP and the SMTP loops share.
///
/// The first command starts the thread. Later ones wake it (`curl_multi_wakeup`) only when it is
/// waiting, or about to wait, in `curl_multi_poll`, once per wait; a command that needs room does
/// not wake a loop that said it has none, since the loop picks it up when room frees, which ends the
/// wait anyway. Once the thread runs, every libcurl call on the multi handle but the wakeup happens
/// on it; the loop body (`CurlLoopBody`) owns what the commands carry.
final class CurlLoopThread<Command>: @unchecked Sendable {
    /// The multi handle, or nil when libcurl could not start (every command is then refused).
    let multi: UnsafeMutableRawPointer?
    private let name: String

    // Guarded by `lock`.
    private let lock = NSLock()
    private var commands: [Command] = []
    private var started = false
    private var stopping = false
    /// Set once the multi handle is cleaned up; it is never touched again.
    private var finished = false
    /// Whether the loop waits, or is about to wait, with no command queued: a new one must wake it.
    private var waiting = false
    /// Set with `waiting`: whether a command that needs room could start now.
    private var hasRoom = true
    private var finishWaiters: [CheckedContinuation<Void, Never>] = []

    /// - Parameter name: the thread's name, as tools that list threads show it.
    init(name: String) {
        self.name = name
        multi = detour_curl_global_init_once() == CURLE_OK ? curl_multi_init() : nil
    }

    deinit {
        // Only reached when the thread never ran or has finished: a running thread holds its body,
        // which holds this.
        if let multi, !finished { curl_multi_cleanup(multi) }
    }

    // MARK: - From any thread

    /// Queues `command`, starting the thread with `body` for the first one. Returns false, queuing
    /// nothing, when the loop is stopping or libcurl could not start.
    func enqueue(_ command: Command, needsRoom: Bool, body: some CurlLoopBody) -> Bool {
        lock.withLock {
            guard !stopping, let multi else { return false }
            commands.append(command)
            if !started {
                started = true
                let thread = Thread { [self] in
                    if let multi = self.multi { body.run(on: multi) }
                }
                thread.name = name
                thread.start()
            } else if waiting {
                if needsRoom && !hasRoom { return true }
                waiting = false  // one wakeup per wait is enough
                curl_multi_wakeup(multi)
            }
            return true
        }
    }

    /// Asks the loop to stop, without waiting for it. A loop that never ran frees libcurl's state now.
    func stop() {
        lock.withLock { requestStop() }
    }

    /// Stops the loop and returns once it has finished (at once when it never ran).
    func stopAndWait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finishedAlready: Bool = lock.withLock {
                requestStop()
                if finished { return true }
                finishWaiters.append(continuation)
                return false
            }
            if finishedAlready { continuation.resume() }
        }
    }

    /// Called with `lock` held.
    private func requestStop() {
        stopping = true
        guard !finished, let multi else { return }
        if started {
            curl_multi_wakeup(multi)
        } else {
            finished = true  // the loop never ran, so nothing else holds the multi handle
            curl_multi_cleanup(multi)
        }
    }

    // MARK: - On the loop thread

    /// The commands queued since the last call, and whether the loop is to stop.
    func takeCommands() -> (commands: [Command], stop: Bool) {
        lock.withLock {
            waiting = false
            defer { commands.removeAll(keepingCapacity: true) }
            return (commands, stopping)
        }
    }

    /// Called just before `curl_multi_poll`, with whether a command that needs room could start
    /// now. Returns whether to wait: false when commands came in since `takeCommands()` (poll with
    /// a zero timeout, then take them).
    func readyToWait(hasRoom room: Bool = true) -> Bool {
        lock.withLock {
            waiting = commands.isEmpty
            hasRoom = room
            return waiting
        }
    }

    /// Frees libcurl's state once the loop is done with it; commands queued after the last
    /// `takeCommands()` go to `leftovers`, then whoever waits in `stopAndWait()` resumes.
    func finish(_ leftovers: ([Command]) -> Void) {
        let (left, waiters): ([Command], [CheckedContinuation<Void, Never>]) = lock.withLock {
            defer {
                commands.removeAll()
                finishWaiters.removeAll()
            }
            if let multi, !finished { curl_multi_cleanup(multi) }
            finished = true
            return (commands, finishWaiters)
        }
        leftovers(left)
        for waiter in waiters { waiter.resume() }
    }
}
