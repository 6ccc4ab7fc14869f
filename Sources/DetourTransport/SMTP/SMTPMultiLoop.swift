import CCurl
import CurlShim
import Foundation
import Synchronization

/// Every connection of one SMTP pool, driven from one thread through a libcurl multi handle, the
/// way an event-driven mail client keeps many sessions going at once.
///
/// Messages queue in order and go out on up to `maxConnections` easy handles, one per connection;
/// the multi handle keeps each connection open after its message, so the next one skips connect,
/// EHLO, STARTTLS and AUTH. While any connection is busy the thread never sleeps on one socket:
/// it waits on all of them in one poll and answers whichever server spoke. Callers hand messages
/// over through a locked queue and `curl_multi_wakeup`, which is only called when the thread is
/// waiting and the message could start. Once the loop runs, every libcurl call but the wakeup
/// happens on its thread (before that, only creating the multi handle, or freeing an unused one).
final class SMTPMultiLoop: @unchecked Sendable {
    private enum Command {
        case send(SMTPExchange)
        case cancel(SMTPExchange)
    }

    let settings: SMTPSettings
    let maxConnections: Int
    /// Easy handles made so far: the most connections that were ever open at once.
    let handlesMade = Atomic<Int>(0)
    /// Messages handed to this loop and not yet answered (kept by the pool, to share out the load).
    let outstanding = Atomic<Int>(0)

    // Guarded by `lock`.
    private let lock = NSLock()
    private var commands: [Command] = []
    private var polling = false
    /// Set with `polling`: whether the loop has a free connection, so that a new message could start now.
    private var hasRoom = true
    private var stopping = false
    private var started = false
    private var stopped = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private let multi: UnsafeMutableRawPointer?

    // Touched only on the loop thread.
    private var idle: [SMTPHandle] = []
    private var queue: [SMTPExchange] = []
    private var queueHead = 0
    private var running: [UnsafeMutableRawPointer: (exchange: SMTPExchange, handle: SMTPHandle)] = [:]
    /// Answered messages whose callers are told together, just before the loop waits again.
    private var answered: [(SMTPExchange, Result<SMTPReply, SMTPError>)] = []

    init(settings: SMTPSettings, maxConnections: Int) {
        self.settings = settings
        self.maxConnections = max(1, maxConnections)
        multi = detour_curl_global_init_once() == CURLE_OK ? curl_multi_init() : nil
        if let multi {
            detour_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, self.maxConnections)
            detour_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, self.maxConnections)
        }
    }

    deinit {
        // Only reached when the loop never ran or has finished: a running loop holds `self`.
        if let multi, !stopped { curl_multi_cleanup(multi) }
    }

    /// Queues `exchange`; when the pool is closed, finishes it at once as cancelled.
    func submit(_ exchange: SMTPExchange) {
        guard enqueue(.send(exchange)) else {
            let server = redactedURL(settings.url)
            exchange.finish(.failure(multi == nil
                ? SMTPError(kind: .other, retryable: true, message: "libcurl could not start, so nothing was sent to \(server)")
                : SMTPError(kind: .cancelled, retryable: true, message: "the pool for \(server) is closed")))
            return
        }
    }

    /// Abandons `exchange`: still queued, it never goes out; in flight, its connection is dropped.
    func cancel(_ exchange: SMTPExchange) {
        _ = enqueue(.cancel(exchange))
    }

    /// Asks the loop to stop without waiting (a pool dropped without `close`).
    func stop() {
        lock.withLock {
            stopping = true
            if started, !stopped, let multi { curl_multi_wakeup(multi) }
        }
    }

    /// Stops the loop and waits for it: queued and in-flight messages fail as cancelled, and every
    /// connection says QUIT. Later submissions fail at once.
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finishedAlready: Bool = lock.withLock {
                stopping = true
                if stopped || !started {
                    return true
                }
                stopWaiters.append(continuation)
                if let multi { curl_multi_wakeup(multi) }
                return false
            }
            if finishedAlready { continuation.resume() }
        }
    }

    private func enqueue(_ command: Command) -> Bool {
        lock.withLock {
            guard !stopping, let multi else { return false }
            commands.append(command)
            if !started {
                started = true
                let thread = Thread { [self] in run() }
                thread.name = "detour-smtp"
                thread.start()
            } else if polling {
                // A message that cannot start yet (every connection busy) is picked up when one frees,
                // which ends the wait anyway; waking the loop for it would only cost a context switch.
                if case .send = command, !hasRoom { return true }
                polling = false  // one wakeup per wait is enough
                curl_multi_wakeup(multi)
            }
            return true
        }
    }

    // MARK: - On the loop thread

    private func run() {
        guard let multi else { return }
        while true {
            let (batch, stop): ([Command], Bool) = lock.withLock {
                polling = false
                defer { commands.removeAll(keepingCapacity: true) }
                return (commands, stopping)
            }
            for command in batch {
                switch command {
                case .send(let exchange): queue.append(exchange)
                case .cancel(let exchange): abandon(exchange, multi)
                }
            }
            if stop { break }
            // Keep going while finished messages free handles for queued ones: the next MAIL FROM
            // goes out at once, not after another wait.
            var more = true
            while more {
                startQueued(multi)
                var stillRunning: Int32 = 0
                curl_multi_perform(multi, &stillRunning)
                more = collectFinished(multi) && queueHead < queue.count
            }
            let room = running.count < maxConnections
            let wait: Bool = lock.withLock {
                polling = commands.isEmpty
                hasRoom = room
                return polling
            }
            // Tell callers now, all at once: one wakeup of the task pool serves several answers.
            for (exchange, outcome) in answered { exchange.finish(outcome) }
            answered.removeAll(keepingCapacity: true)
            if wait { curl_multi_poll(multi, nil, 0, 1000, nil) }
        }
        close(multi)
    }

    /// Puts queued messages on free handles, making handles up to `maxConnections`.
    private func startQueued(_ multi: UnsafeMutableRawPointer) {
        while queueHead < queue.count {
            let exchange = queue[queueHead]
            if exchange.cancelled.load(ordering: .acquiring) {
                dequeue()
                exchange.finish(.failure(cancelledBeforeSending()))
                continue
            }
            guard let handle = idle.popLast() ?? makeHandle() else { break }
            dequeue()
            exchange.attach(to: handle.easy)
            handle.clearError()
            if curl_multi_add_handle(multi, handle.easy.raw) == CURLM_OK {
                running[handle.easy.raw] = (exchange, handle)
            } else {
                exchange.detach(from: handle.easy)
                idle.append(handle)
                exchange.finish(.failure(SMTPError(kind: .other, retryable: true,
                                                   message: "libcurl refused the message to \(redactedURL(settings.url))")))
            }
        }
        if queueHead > 256 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    private func dequeue() {
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
    }

    private func makeHandle() -> SMTPHandle? {
        guard running.count + idle.count < maxConnections, let handle = SMTPHandle(settings: settings) else { return nil }
        handlesMade.add(1, ordering: .relaxed)
        return handle
    }

    /// Finishes every transfer libcurl reports done; true when any did.
    private func collectFinished(_ multi: UnsafeMutableRawPointer) -> Bool {
        var left: Int32 = 0
        var any = false
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let raw = message.pointee.easy_handle,
                  let (exchange, handle) = running.removeValue(forKey: raw).map({ ($0.exchange, $0.handle) }) else { continue }
            let result = message.pointee.data.result
            curl_multi_remove_handle(multi, raw)
            let outcome: Result<SMTPReply, SMTPError>
            if result == CURLE_OK {
                outcome = .success(exchange.replies.last ?? SMTPReply(code: handle.easy.long(CURLINFO_RESPONSE_CODE), text: ""))
            } else {
                outcome = .failure(SMTPFailure(settings: settings, exchange: exchange, result: result,
                                               curlText: handle.errorText).error())
            }
            exchange.detach(from: handle.easy)
            idle.append(handle)
            answered.append((exchange, outcome))
            any = true
        }
        return any
    }

    /// A queued message is dropped here. One in flight is left to libcurl: its progress callback
    /// sees the flag on the next `curl_multi_perform` and aborts the transfer, which closes that
    /// connection without the QUIT exchange a removal mid-conversation would wait for.
    private func abandon(_ exchange: SMTPExchange, _ multi: UnsafeMutableRawPointer) {
        exchange.cancelled.store(true, ordering: .releasing)
        if let index = queue[queueHead...].firstIndex(where: { $0 === exchange }) {
            queue.remove(at: index)
            exchange.finish(.failure(cancelledBeforeSending()))
        }
    }

    private func cancelledBeforeSending() -> SMTPError {
        SMTPError(kind: .cancelled, retryable: true, message: "message to \(redactedURL(settings.url)) was cancelled before it was sent")
    }

    /// Fails what is left, says QUIT on every connection and frees libcurl's state.
    private func close(_ multi: UnsafeMutableRawPointer) {
        let server = redactedURL(settings.url)
        for (exchange, outcome) in answered { exchange.finish(outcome) }
        answered.removeAll()
        // In-flight messages abort through their progress callbacks (see `abandon`).
        for entry in running.values { entry.exchange.cancelled.store(true, ordering: .releasing) }
        var stillRunning: Int32 = 0
        curl_multi_perform(multi, &stillRunning)
        _ = collectFinished(multi)
        for (exchange, outcome) in answered { exchange.finish(outcome) }
        answered.removeAll()
        for (raw, entry) in running {
            curl_multi_remove_handle(multi, raw)
            entry.exchange.detach(from: entry.handle.easy)
            entry.exchange.finish(.failure(SMTPError(kind: .cancelled, retryable: true,
                                                     message: "the pool for \(server) closed while sending")))
        }
        running.removeAll()
        for exchange in queue[queueHead...] {
            exchange.finish(.failure(SMTPError(kind: .cancelled, retryable: true, message: "the pool for \(server) is closed")))
        }
        queue.removeAll()
        queueHead = 0
        let leftovers: [Command] = lock.withLock {
            defer { commands.removeAll() }
            return commands
        }
        for case .send(let exchange) in leftovers {
            exchange.finish(.failure(SMTPError(kind: .cancelled, retryable: true, message: "the pool for \(server) is closed")))
        }
        idle.removeAll()  // each handle's cleanup happens as it is released
        curl_multi_cleanup(multi)  // closes the cached connections, with QUIT
        let waiters: [CheckedContinuation<Void, Never>] = lock.withLock {
            stopped = true
            defer { stopWaiters.removeAll() }
            return stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// One easy handle of the pool, configured once for the server, with its error buffer.
final class SMTPHandle {
    let easy: CurlEasy
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init?(settings: SMTPSettings) {
        guard let made = CurlEasy.make() else { return nil }
        easy = made
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        made.set(CURLOPT_URL, settings.url)
        made.set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        made.set(CURLOPT_NOSIGNAL, true)
        made.set(CURLOPT_UPLOAD, true)
        made.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        made.set(CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeout.curlMilliseconds)
        made.set(CURLOPT_TIMEOUT_MS, settings.timeout.curlMilliseconds)
        let useSSL = switch settings.startTLS {
        case .required: CURLUSESSL_ALL
        case .optional: CURLUSESSL_TRY
        case .off: CURLUSESSL_NONE
        }
        made.set(CURLOPT_USE_SSL, Int(useSSL.rawValue))
        made.set(CURLOPT_SSL_VERIFYPEER, settings.verifyTLS)
        made.set(CURLOPT_SSL_VERIFYHOST, settings.verifyTLS ? 2 : 0)
        if let caFile = settings.caFile { made.set(CURLOPT_CAINFO, caFile) }
        if let username = settings.username {
            made.set(CURLOPT_USERNAME, username)
            made.set(CURLOPT_PASSWORD, settings.password ?? "")
        }
        SMTPExchange.installCallbacks(on: made)
    }

    deinit {
        curl_easy_cleanup(easy.raw)
        errorBuffer.deallocate()
    }

    func clearError() { errorBuffer[0] = 0 }

    var errorText: String { String(cString: errorBuffer) }
}
