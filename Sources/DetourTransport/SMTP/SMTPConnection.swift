import CCurl
import CurlShim
import Foundation
import Logging

/// One connection to an SMTP server that sends messages one at a time and stays open between
/// them, so a batch does not pay for a new TCP, TLS and AUTH exchange per message. libcurl's
/// blocking transfer runs on this connection's own serial queue, never on the Swift
/// concurrency pool. Calls made while a message is in flight wait their turn.
public final class SMTPConnection: @unchecked Sendable {
    public let settings: SMTPSettings
    private let logger: Logger
    private let queue: DispatchQueue

    // Touched only on `queue`.
    private var easy: CurlEasy?
    private var closed = false
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// - Parameter logger: where per-message debug lines go (never with the password or message text).
    public init(settings: SMTPSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        queue = DispatchQueue(label: "detour.smtp.connection")
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        let handle = easy.map { HandleBox(raw: $0.raw) }
        let buffer = BufferBox(pointer: errorBuffer)
        queue.async {
            if let handle { curl_easy_cleanup(handle.raw) }  // sends QUIT on a live connection
            buffer.pointer.deallocate()
        }
    }

    /// Sends `message` (a complete RFC 5322 message with CRLF line ends) from `from` to `to`,
    /// and returns the server's reply to the end of DATA. Throws when the server did not accept
    /// it for every recipient. Cancelling the calling task abandons the message within about a second.
    public func send(from: String, to recipients: [String], message: Data) async throws(SMTPError) -> SMTPReply {
        if let problem = Self.addressProblem(from: from, to: recipients) {
            throw SMTPError(kind: .invalidRequest, retryable: false,
                            message: "cannot send through \(redactedURL(settings.url)): \(problem)")
        }
        let exchange = SMTPExchange(from: from, recipients: recipients, message: message)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<SMTPReply, SMTPError>, Never>) in
                queue.async { continuation.resume(returning: self.perform(exchange)) }
            }
        } onCancel: {
            exchange.cancelled.store(true, ordering: .releasing)
        }
        switch result {
        case .success(let reply):
            logger.debug("SMTP message accepted", metadata: [
                "smtp.server": "\(redactedURL(settings.url))", "smtp.recipients": "\(recipients.count)",
                "smtp.reply": "\(reply.code)",
            ])
            return reply
        case .failure(let error):
            logger.debug("SMTP message not accepted", metadata: [
                "smtp.server": "\(redactedURL(settings.url))", "smtp.error.kind": "\(error.kind)",
                "smtp.error": "\(error.message)", "smtp.retryable": "\(error.retryable)",
            ])
            throw error
        }
    }

    /// Says goodbye to the server and frees the connection; later sends fail as `.cancelled`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.closed = true
                if let easy = self.easy { curl_easy_cleanup(easy.raw) }
                self.easy = nil
                continuation.resume()
            }
        }
    }

    // MARK: - On the connection's queue

    private func perform(_ exchange: SMTPExchange) -> Result<SMTPReply, SMTPError> {
        let server = redactedURL(settings.url)
        if closed {
            return .failure(SMTPError(kind: .cancelled, retryable: true,
                                      message: "the connection to \(server) is closed"))
        }
        if exchange.cancelled.load(ordering: .acquiring) {
            return .failure(SMTPError(kind: .cancelled, retryable: true,
                                      message: "message to \(server) was cancelled before it was sent"))
        }
        guard let easy = handle() else {
            return .failure(SMTPError(kind: .other, retryable: true, message: "libcurl could not create a transfer"))
        }
        var recipients = CurlStringList(exchange.recipients)
        defer {
            SMTPExchange.detach(from: easy)
            easy.set(CURLOPT_MAIL_RCPT, list: nil)
            recipients.free()
        }
        easy.set(CURLOPT_MAIL_FROM, exchange.from)
        easy.set(CURLOPT_MAIL_RCPT, list: recipients.head)
        exchange.attach(to: easy)
        errorBuffer[0] = 0
        let result = curl_easy_perform(easy.raw)
        if result == CURLE_OK {
            let last = exchange.replies.last
            let code = easy.long(CURLINFO_RESPONSE_CODE)
            return .success(last ?? SMTPReply(code: code, text: ""))
        }
        return .failure(SMTPFailure(settings: settings, exchange: exchange, result: result,
                                    curlText: String(cString: errorBuffer)).error())
    }

    /// The connection's easy handle, made and configured on first use.
    private func handle() -> CurlEasy? {
        if let easy { return easy }
        guard let made = CurlEasy.make() else { return nil }
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
        easy = made
        return made
    }

    private static func addressProblem(from: String, to recipients: [String]) -> String? {
        if recipients.isEmpty { return "no recipients" }
        for address in [from] + recipients
        where address.contains(where: { $0.isNewline || $0 == "<" || $0 == ">" }) || address.utf8.count > 320 {
            return "an address contains a line break or angle brackets, or is too long"
        }
        return nil
    }
}

/// A raw easy handle carried to the queue that frees it.
private struct HandleBox: @unchecked Sendable { let raw: UnsafeMutableRawPointer }
private struct BufferBox: @unchecked Sendable { let pointer: UnsafeMutablePointer<CChar> }
