import CCurl
import CurlShim
import Foundation

/// Drives one libcurl multi handle on its own thread: transfers are handed over through a
/// locked command queue and a `curl_multi_wakeup`, and finish on that thread. Every libcurl call
/// on the multi handle (other than the wakeup) happens on the loop thread.
final class CurlMultiLoop: @unchecked Sendable {
    private enum Command {
        case add(HTTPTransfer)
        case cancel(HTTPTransfer)
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var commands: [Command] = []
    private var stopping = false
    private var closed = false
    private var started = false
    private let multi: UnsafeMutableRawPointer?

    // Touched only on the loop thread.
    private var active: [UnsafeMutableRawPointer: HTTPTransfer] = [:]

    init() {
        multi = detour_curl_global_init_once() == CURLE_OK ? curl_multi_init() : nil
        if let multi {
            // Room for up to 64 idle connections, reused by probes and webhooks that repeat.
            detour_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 64)
        }
    }

    /// Hands `transfer` to the loop; when the loop has stopped, fails it at once.
    func submit(_ transfer: HTTPTransfer) {
        let accepted = enqueue(.add(transfer))
        guard !accepted else { return }
        let target = redactedURL(transfer.request.url)
        if multi == nil {
            transfer.fail(TransportError(code: .other, message: "libcurl could not start, so nothing was sent to \(target)"))
        } else {
            transfer.fail(TransportError(code: .cancelled, message: "the HTTP client was shut down before sending to \(target)"))
        }
    }

    /// Asks the loop to drop `transfer` if it is still running.
    func cancel(_ transfer: HTTPTransfer) {
        _ = enqueue(.cancel(transfer))
    }

    /// Stops the loop: transfers still running fail as cancelled. Returns without waiting.
    func shutdown() {
        lock.withLock {
            guard !stopping else { return }
            stopping = true
            guard !closed, let multi else { return }
            if started {
                curl_multi_wakeup(multi)
            } else {
                closed = true  // the loop never ran, so no transfer holds the multi handle
                curl_multi_cleanup(multi)
            }
        }
    }

    private func enqueue(_ command: Command) -> Bool {
        lock.withLock {
            guard !stopping, !closed, let multi else { return false }
            commands.append(command)
            if !started {
                started = true
                let thread = Thread { [self] in run() }
                thread.name = "detour-curl-multi"
                thread.start()
            } else {
                curl_multi_wakeup(multi)
            }
            return true
        }
    }

    private func run() {
        guard let multi else { return }
        while true {
            let (batch, stop) = lock.withLock {
                defer { commands.removeAll() }
                return (commands, stopping)
            }
            for command in batch { apply(command, multi) }
            if stop { break }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectFinished(multi)
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for (raw, transfer) in active {
            curl_multi_remove_handle(multi, raw)
            transfer.fail(TransportError(code: .cancelled,
                                         message: "the HTTP client shut down while sending to \(redactedURL(transfer.request.url))"))
        }
        active.removeAll()
        lock.withLock {
            closed = true
            curl_multi_cleanup(multi)
        }
    }

    private func apply(_ command: Command, _ multi: UnsafeMutableRawPointer) {
        switch command {
        case .add(let transfer):
            if transfer.cancelRequested.load(ordering: .acquiring) {
                transfer.finish(nil)
            } else if curl_multi_add_handle(multi, transfer.easy.raw) == CURLM_OK {
                active[transfer.easy.raw] = transfer
            } else {
                transfer.fail(TransportError(code: .other,
                                             message: "libcurl refused the transfer to \(redactedURL(transfer.request.url))"))
            }
        case .cancel(let transfer):
            guard active.removeValue(forKey: transfer.easy.raw) != nil else { return }
            curl_multi_remove_handle(multi, transfer.easy.raw)
            transfer.finish(nil)
        }
    }

    private func collectFinished(_ multi: UnsafeMutableRawPointer) {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let raw = message.pointee.easy_handle else { continue }
            let result = message.pointee.data.result
            guard let transfer = active.removeValue(forKey: raw) else { continue }
            curl_multi_remove_handle(multi, raw)
            transfer.finish(result)
        }
    }
}
