import CCurl
import Foundation

/// Turns a failed libcurl SMTP transfer into an `SMTPError`: the server's own reply when it gave
/// one, else what libcurl saw, classified as retryable or permanent. Scrubs the password.
struct SMTPFailure {
    let settings: SMTPSettings
    let exchange: SMTPExchange
    let result: CURLcode
    let curlText: String

    func error() -> SMTPError {
        let server = redactedURL(settings.url)
        let detail = scrub(curlText.isEmpty ? CurlEasy.describe(result) : curlText)
        if exchange.cancelled.load(ordering: .acquiring) {
            return SMTPError(kind: .cancelled, retryable: true, message: "sending to \(server) was cancelled")
        }
        // Missing STARTTLS, TLS trouble and timeouts are what ended the attempt even when an
        // earlier reply (a refused EHLO answered by HELO) carried an error code.
        let endedByTransport = [CURLE_USE_SSL_FAILED, CURLE_OPERATION_TIMEDOUT, CURLE_SSL_CONNECT_ERROR,
                                CURLE_PEER_FAILED_VERIFICATION].contains(result)
        if let failure = exchange.failure, !endedByTransport {
            let reply = scrub(failure.reply.text)
            let code = failure.reply.code
            let retryable = SMTPError.isRetryable(code: code)
            let kind: SMTPError.Kind = failure.command == "AUTH" ? .authenticationFailed : .rejected
            var message = "\(server) answered \(failure.command.isEmpty ? "the connection" : failure.command)"
            if let recipient = failure.recipient { message += " for \(recipient)" }
            message += " with \(code) \(reply)"
            return SMTPError(kind: kind, code: code, reply: reply, retryable: retryable,
                             recipient: failure.recipient, message: message)
        }
        let (kind, retryable, what): (SMTPError.Kind, Bool, String) = switch result {
        case CURLE_USE_SSL_FAILED:
            (.startTLSUnavailable, false, "\(server) does not offer STARTTLS, which is required")
        case CURLE_LOGIN_DENIED:
            (.authenticationFailed, false, "\(server) refused the login")
        case CURLE_OPERATION_TIMEDOUT:
            (.timeout, true, "timed out after \(describeSeconds(settings.timeout)) talking to \(server)")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT:
            (.connectFailure, true, "could not connect to \(server)")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER:
            (.tlsFailure, false, "TLS with \(server) failed")
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_WEIRD_SERVER_REPLY:
            (.connectionLost, true, "the connection to \(server) broke")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            (.invalidRequest, false, "cannot use \(server) as an SMTP server")
        default:
            (.other, true, "sending through \(server) failed")
        }
        return SMTPError(kind: kind, retryable: retryable, message: "\(what) (\(detail))")
    }

    /// Removes the password, in clear and in the base64 forms AUTH PLAIN and LOGIN use.
    private func scrub(_ text: String) -> String {
        guard let password = settings.password, !password.isEmpty else { return text }
        let user = settings.username ?? ""
        let forms = [password, Data(password.utf8).base64EncodedString(),
                     Data("\0\(user)\0\(password)".utf8).base64EncodedString()]
        return forms.reduce(text) { $0.replacingOccurrences(of: $1, with: "<redacted>") }
    }
}
