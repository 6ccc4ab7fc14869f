import CCurl
import CurlShim
import Foundation
import Glibc
import Synchronization

/// Every connection of one share of an SMTP pool, driven from one thread, the way an
/// event-driven mail client keeps many sessions going at once.
///
/// Messages queue in order and go out on up to `maxConnections` sessions (`SMTPSession`), one
/// per connection, each kept open for the next message. libcurl opens the connections through
/// this loop's multi handle; the loop waits on libcurl's sockets and on every open session's
/// socket in one `curl_multi_poll`, and answers whichever server spoke. The thread never waits
/// on one connection alone. Callers hand messages over through the command queue of a
/// `CurlLoopThread`, which wakes the thread only when it is waiting and the message could start.
/// Once the loop runs, every libcurl call but the wakeup happens on its thread.
final class SMTPSessionLoop: CurlLoopBody, @unchecked Sendable {
    private enum Command {
        case send(SMTPExchange)
        case cancel(SMTPExchange)
    }

    let settings: SMTPSettings
    let maxConnections: Int
    /// The most connections that were open (or opening) at once.
    let handlesMade = Atomic<Int>(0)
    /// Messages handed to this loop and not yet answered (kept by the pool, to share out the load).
    let outstanding = Atomic<Int>(0)

    private let thread = CurlLoopThread<Command>(name: "detour-smtp")

    // Touched only on the loop thread.
    private let failures: SMTPFailure
    private var sessions: [SMTPSession] = []
    private var connecting: [UnsafeMutableRawPointer: SMTPSession] = [:]
    private var queue: [SMTPExchange] = []
    private var queueHead = 0
    /// Answered messages whose callers are told together, just before the loop waits again.
    private var answered: [(SMTPExchange, Result<SMTPReply, SMTPError>)] = []
    private var waitFDs: [curl_waitfd] = []
    private var waitSessions: [SMTPSession] = []

    init(settings: SMTPSettings, maxConnections: Int) {
        self.settings = settings
        self.maxConnections = max(1, maxConnections)
        failures = SMTPFailure(settings: settings)
    }

    /// Queues `exchange`; when the pool is closed, finishes it at once as cancelled.
    func submit(_ exchange: SMTPExchange) {
        // A message that cannot start yet (every connection busy) is picked up when one frees,
        // which ends the wait anyway; waking the loop for it would only cost a context switch.
        guard thread.enqueue(.send(exchange), needsRoom: true, body: self) else {
            let server = redactedURL(settings.url)
            exchange.finish(.failure(thread.multi == nil
                ? SMTPError(kind: .other, retryable: true, message: "libcurl could not start, so nothing was sent to \(server)")
                : SMTPError(kind: .cancelled, retryable: true, message: "the pool for \(server) is closed")))
            return
        }
    }

    /// Abandons `exchange`: still queued, it never goes out; in flight, its connection is dropped.
    func cancel(_ exchange: SMTPExchange) {
        _ = thread.enqueue(.cancel(exchange), needsRoom: false, body: self)
    }

    /// Asks the loop to stop without waiting (a pool dropped without `close`).
    func stop() {
        thread.stop()
    }

    /// Stops the loop and waits for it: queued and in-flight messages fail as cancelled, and every
    /// idle connection says QUIT. Later submissions fail at once.
    func shutdown() async {
        await thread.stopAndWait()
    }

    // MARK: - On the loop thread

    func run(on multi: UnsafeMutableRawPointer) {
        while true {
            let (batch, stop) = thread.takeCommands()
            for command in batch {
                switch command {
                case .send(let exchange): queue.append(exchange)
                case .cancel(let exchange): abandon(exchange, multi)
                }
            }
            if stop { break }
            startQueued(multi)
            if !connecting.isEmpty {
                var stillRunning: Int32 = 0
                curl_multi_perform(multi, &stillRunning)
                collectConnected(multi)
                startQueued(multi)
            }
            let now = DispatchTime.now().uptimeNanoseconds
            var nearest = UInt64.max
            for session in sessions where session.phase == .busy {
                if session.deadline <= now {
                    handle([session.expire()], on: session, multi)
                } else {
                    nearest = min(nearest, session.deadline)
                }
            }
            let room = sessions.count < maxConnections || sessions.contains { $0.phase == .idle && $0.exchange == nil }
            let wait = thread.readyToWait(hasRoom: room)
            // Tell callers now, all at once: one wakeup of the task pool serves several answers.
            for (exchange, outcome) in answered { exchange.finish(outcome) }
            answered.removeAll(keepingCapacity: true)
            let timeout: Int32 = wait ? Int32(min(1000, nearest == .max ? 1000 : (nearest - now) / 1_000_000 + 1)) : 0
            poll(multi, sessions: sessions, timeout: timeout)
        }
        close(multi)
    }

    /// Waits up to `timeout` ms for libcurl's sockets and `sessions`' sockets, then serves the ready sessions.
    private func poll(_ multi: UnsafeMutableRawPointer, sessions polled: [SMTPSession], timeout: Int32) {
        waitFDs.removeAll(keepingCapacity: true)
        waitSessions.removeAll(keepingCapacity: true)
        for session in polled where session.phase != .connecting && session.socket >= 0 {
            let events = Int16(POLLIN) | (session.wantsWrite ? Int16(POLLOUT) : 0)
            waitFDs.append(curl_waitfd(fd: session.socket, events: events, revents: 0))
            waitSessions.append(session)
        }
        waitFDs.withUnsafeMutableBufferPointer { fds in
            _ = curl_multi_poll(multi, fds.baseAddress, UInt32(fds.count), timeout, nil)
        }
        for index in waitFDs.indices where waitFDs[index].revents != 0 {
            let session = waitSessions[index]
            guard sessions.contains(where: { $0 === session }) else { continue }  // dropped meanwhile
            let revents = waitFDs[index].revents
            var events: [SMTPSession.Event] = []
            if revents & Int16(POLLOUT) != 0, let event = session.flush() { events.append(event) }
            if revents & ~Int16(POLLOUT) != 0 { events += session.receive() }
            handle(events, on: session, multi)
        }
    }

    /// Puts queued messages on idle sessions, opening sessions up to `maxConnections`.
    private func startQueued(_ multi: UnsafeMutableRawPointer) {
        while queueHead < queue.count {
            let exchange = queue[queueHead]
            if exchange.cancelled.load(ordering: .acquiring) {
                dequeue()
                exchange.finish(.failure(cancelledBeforeSending()))
                continue
            }
            let deadline = DispatchTime.now().uptimeNanoseconds + settings.timeout.nanoseconds
            if let session = sessions.first(where: { $0.phase == .idle && $0.exchange == nil }) {
                dequeue()
                session.assign(exchange, deadline: deadline)
                if let event = session.flush() { handle([event], on: session, multi) }
                continue
            }
            guard sessions.count < maxConnections else { break }
            dequeue()
            guard let session = SMTPSession(settings: settings), curl_multi_add_handle(multi, session.easy.raw) == CURLM_OK else {
                exchange.finish(.failure(SMTPError(kind: .other, retryable: true,
                                                   message: "libcurl could not open a connection to \(redactedURL(settings.url))")))
                continue
            }
            session.assign(exchange, deadline: deadline)
            sessions.append(session)
            connecting[session.easy.raw] = session
            if sessions.count > handlesMade.load(ordering: .relaxed) { handlesMade.store(sessions.count, ordering: .relaxed) }
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

    /// Takes the connections libcurl finished opening: each starts its message, or fails it.
    private func collectConnected(_ multi: UnsafeMutableRawPointer) {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let raw = message.pointee.easy_handle,
                  let session = connecting.removeValue(forKey: raw) else { continue }
            if let error = session.connected(message.pointee.data.result) {
                let exchange = session.abandon()
                drop(session, multi)
                if let exchange { answered.append((exchange, .failure(error))) }
            } else if let event = session.flush() {
                handle([event], on: session, multi)
            }
        }
    }

    private func handle(_ events: [SMTPSession.Event], on session: SMTPSession, _ multi: UnsafeMutableRawPointer) {
        for event in events {
            switch event {
            case .finished(let exchange, let outcome):
                answered.append((exchange, outcome))
            case .broken(let exchange, let error, let beforeAnyReply):
                drop(session, multi)
                guard let exchange else { continue }
                if beforeAnyReply && session.completed > 0 && !exchange.requeued && !exchange.cancelled.load(ordering: .acquiring) {
                    // A reused connection the server had closed while idle: try once on a new one.
                    exchange.requeued = true
                    queue.insert(exchange, at: queueHead)
                } else {
                    answered.append((exchange, .failure(error)))
                }
            }
        }
    }

    /// Closes `session` at once, without a goodbye. A connection still opening is told to abort
    /// and is dropped when libcurl reports it done.
    private func drop(_ session: SMTPSession, _ multi: UnsafeMutableRawPointer) {
        if session.phase == .connecting && connecting[session.easy.raw] != nil {
            _ = session.abandon()
            return
        }
        sessions.removeAll { $0 === session }
        // Shut the socket first, so that nothing libcurl does on removal can wait on a silent server.
        if session.socket >= 0 { Glibc.shutdown(session.socket, Int32(SHUT_RDWR)) }
        curl_multi_remove_handle(multi, session.easy.raw)
    }

    /// Called for a cancelled message: still queued, it is dropped here; on a connection, the
    /// connection goes with it.
    private func abandon(_ exchange: SMTPExchange, _ multi: UnsafeMutableRawPointer) {
        exchange.cancelled.store(true, ordering: .releasing)
        if let index = queue[queueHead...].firstIndex(where: { $0 === exchange }) {
            queue.remove(at: index)
            exchange.finish(.failure(cancelledBeforeSending()))
            return
        }
        guard let session = sessions.first(where: { $0.exchange === exchange }) else { return }
        _ = session.abandon()
        drop(session, multi)
        exchange.finish(.failure(failures.cancelled()))
    }

    private func cancelledBeforeSending() -> SMTPError {
        SMTPError(kind: .cancelled, retryable: true, message: "message to \(redactedURL(settings.url)) was cancelled before it was sent")
    }

    /// Fails what is left, says QUIT on every idle connection and frees libcurl's state.
    private func close(_ multi: UnsafeMutableRawPointer) {
        let server = redactedURL(settings.url)
        for (exchange, outcome) in answered { exchange.finish(outcome) }
        answered.removeAll()
        for exchange in queue[queueHead...] {
            exchange.finish(.failure(SMTPError(kind: .cancelled, retryable: true, message: "the pool for \(server) is closed")))
        }
        queue.removeAll()
        queueHead = 0
        for session in sessions {
            if let exchange = session.abandon() {
                exchange.finish(.failure(SMTPError(kind: .cancelled, retryable: true,
                                                   message: "the pool for \(server) closed while sending")))
            }
            if session.phase == .connecting { continue }  // aborts at libcurl's next progress check
            if session.quit(), session.flush() == nil { continue }
            drop(session, multi)
        }
        // Wait briefly for the goodbyes and for connections still opening to abort.
        let giveUp = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
        while !sessions.isEmpty && DispatchTime.now().uptimeNanoseconds < giveUp {
            if !connecting.isEmpty {
                var stillRunning: Int32 = 0
                curl_multi_perform(multi, &stillRunning)
                var left: Int32 = 0
                while let message = curl_multi_info_read(multi, &left) {
                    guard message.pointee.msg == CURLMSG_DONE, let raw = message.pointee.easy_handle,
                          let session = connecting.removeValue(forKey: raw) else { continue }
                    if session.connected(message.pointee.data.result) == nil, session.quit(), session.flush() == nil { continue }
                    drop(session, multi)
                }
            }
            poll(multi, sessions: sessions, timeout: 50)
        }
        for session in sessions {
            connecting[session.easy.raw] = nil
            drop(session, multi)
        }
        connecting.removeAll()
        for (exchange, outcome) in answered { exchange.finish(outcome) }
        answered.removeAll()
        thread.finish { leftovers in
            for case .send(let exchange) in leftovers {
                exchange.finish(.failure(SMTPError(kind: .cancelled, retryable: true, message: "the pool for \(server) is closed")))
            }
        }
    }
}

extension Duration {
    /// Whole nanoseconds, for deadlines on `DispatchTime`'s clock (negative durations count as 0).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
