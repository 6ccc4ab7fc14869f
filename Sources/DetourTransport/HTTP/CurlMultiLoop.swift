import CCurl
import CurlShim
import Foundation

/// Drives one libcurl multi handle on its own thread (`CurlLoopThread`): transfers are handed
/// over through its command queue and finish on that thread. Every libcurl call on the multi
/// handle (other than the wakeup) happens on the loop thread.
final class CurlMultiLoop: CurlLoopBody, @unchecked Sendable {
    private enum Command {
        case add(HTTPTransfer)
        case cancel(HTTPTransfer)
    }

    private let thread = CurlLoopThread<Command>(name: "detour-curl-multi")

    // Touched only on the loop thread.
    private var active: [UnsafeMutableRawPointer: HTTPTransfer] = [:]

    init() {
        if let multi = thread.multi {
            // Room for up to 64 idle connections, reused by probes and webhooks that repeat.
            detour_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 64)
        }
    }

    /// Hands `transfer` to the loop; when the loop has stopped, fails it at once.
    func submit(_ transfer: HTTPTransfer) {
        guard !thread.enqueue(.add(transfer), needsRoom: false, body: self) else { return }
        let target = redactedURL(transfer.request.url)
        if thread.multi == nil {
            transfer.fail(TransportError(code: .other, message: "libcurl could not start, so nothing was sent to \(target)"))
        } else {
            transfer.fail(TransportError(code: .cancelled, message: "the HTTP client was shut down before sending to \(target)"))
        }
    }

    /// Asks the loop to drop `transfer` if it is still running.
    func cancel(_ transfer: HTTPTransfer) {
        _ = thread.enqueue(.cancel(transfer), needsRoom: false, body: self)
    }

    /// Stops the loop: transfers still running fail as cancelled. Returns without waiting.
    func shutdown() {
        thread.stop()
    }

    // MARK: - On the loop thread

    func run(on multi: UnsafeMutableRawPointer) {
        while true {
            let (batch, stop) = thread.takeCommands()
            for command in batch { apply(command, multi) }
            if stop { break }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectFinished(multi)
            let timeout: Int32 = thread.readyToWait() ? 1000 : 0
            curl_multi_poll(multi, nil, 0, timeout, nil)
        }
        for (raw, transfer) in active {
            curl_multi_remove_handle(multi, raw)
            transfer.fail(shutDownWhileSending(transfer))
        }
        active.removeAll()
        thread.finish { leftovers in
            for case .add(let transfer) in leftovers { transfer.fail(shutDownWhileSending(transfer)) }
        }
    }

    private func shutDownWhileSending(_ transfer: HTTPTransfer) -> TransportError {
        TransportError(code: .cancelled, message: "the HTTP client shut down while sending to \(redactedURL(transfer.request.url))")
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
