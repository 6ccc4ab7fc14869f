import CCurl
import Foundation

/// Turns what went wrong with a message into an `SMTPError`: the server's own reply when it gave
/// one, else what libcurl saw while connecting, classified as retryable or permanent. Scrubs the
/// password.
struct SMTPFailure {
    let settings: SMTPSettings

    var server: String { redactedURL(settings.url) }

    /// The server answered a command with a 4xx or 5xx reply.
    func refused(_ refusal: SMTPRefusal) -> SMTPError {
        let reply = scrub(refusal.reply.text)
        let code = refusal.reply.code
        let kind: SMTPError.Kind = refusal.command == "AUTH" ? .authenticationFailed : .rejected
        var message = "\(server) answered \(refusal.command.isEmpty ? "the connection" : refusal.command)"
        // Servers often quote the refused address ("550 5.1.1 <a@b>: Recipient address rejected"):
        // then the reply names it, once.
        if let recipient = refusal.recipient, !reply.lowercased().contains("<\(recipient.lowercased())>") {
            message += " for \(recipient)"
        }
        message += " with \(code) \(reply)"
        return SMTPError(kind: kind, code: code, reply: reply, retryable: SMTPError.isRetryable(code: code),
                         recipient: refusal.recipient, message: message)
    }

    /// Opening the connection failed with `result`; `refusal` is the last 4xx/5xx reply seen while
    /// connecting (greeting, EHLO, STARTTLS, AUTH), if any.
    func connect(result: CURLcode, curlText: String, refusal: SMTPRefusal?, cancelled: Bool) -> SMTPError {
        let detail = scrub(curlText.isEmpty ? CurlEasy.describe(result) : curlText)
        if cancelled || result == CURLE_ABORTED_BY_CALLBACK {
            return SMTPError(kind: .cancelled, retryable: true, message: "sending to \(server) was cancelled")
        }
        // Missing STARTTLS, TLS trouble and timeouts are what ended the attempt even when an
        // earlier reply (a refused EHLO answered by HELO) carried an error code.
        let endedByTransport = [CURLE_USE_SSL_FAILED, CURLE_OPERATION_TIMEDOUT, CURLE_SSL_CONNECT_ERROR,
                                CURLE_PEER_FAILED_VERIFICATION].contains(result)
        if let refusal, !endedByTransport { return refused(refusal) }
        let (kind, retryable, what): (SMTPError.Kind, Bool, String) = switch result {
        case CURLE_USE_SSL_FAILED:
            (.startTLSUnavailable, false, "\(server) does not offer STARTTLS, which is required")
        case CURLE_LOGIN_DENIED:
            (.authenticationFailed, false, "\(server) refused the login")
        case CURLE_OPERATION_TIMEDOUT:
            (.timeout, true, "timed out after \(describeSeconds(min(settings.connectTimeout, settings.timeout))) connecting to \(server)")
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
            (.other, true, "connecting to \(server) failed")
        }
        return SMTPError(kind: kind, retryable: retryable, message: "\(what) (\(detail))")
    }

    /// A username is set but libcurl connected without logging in, because the server's EHLO
    /// offered no AUTH (`offered` is what it did offer). Sending would end at MAIL FROM with "530
    /// authentication required", or be relayed without the login that was meant to be used.
    func loginNotOffered(offered: Set<String>, encrypted: Bool) -> SMTPError {
        let list = offered.isEmpty ? "no extensions" : offered.sorted().joined(separator: " ")
        let what = offered.contains("AUTH")
            ? "\(server) offers no AUTH mechanism libcurl can use (its EHLO offers \(list)), but a username is set"
            : "\(server) does not offer AUTH (its EHLO offers \(list)), but a username is set"
        let hint = !encrypted && offered.contains("STARTTLS")
            ? "servers often offer AUTH only after STARTTLS, so set starttls: required"
            : "if the server needs no login, remove its username and password; else check its address and port (submission is usually 587, with STARTTLS)"
        return SMTPError(kind: .authenticationUnavailable, retryable: false, message: "\(what), so nothing was sent; \(hint)")
    }

    /// The connection broke while a message was on it: `what` says how.
    func lost(_ what: String) -> SMTPError {
        SMTPError(kind: .connectionLost, retryable: true, message: "the connection to \(server) broke (\(what))")
    }

    /// The message's time limit passed.
    func timedOut() -> SMTPError {
        SMTPError(kind: .timeout, retryable: true, message: "timed out after \(describeSeconds(settings.timeout)) talking to \(server)")
    }

    func cancelled() -> SMTPError {
        SMTPError(kind: .cancelled, retryable: true, message: "sending to \(server) was cancelled")
    }

    /// Removes the password, in clear and in the base64 forms AUTH PLAIN and LOGIN use.
    func scrub(_ text: String) -> String {
        guard let password = settings.password, !password.isEmpty else { return text }
        let user = settings.username ?? ""
        let forms = [password, Data(password.utf8).base64EncodedString(),
                     Data("\0\(user)\0\(password)".utf8).base64EncodedString()]
        return forms.reduce(text) { $0.replacingOccurrences(of: $1, with: "<redacted>") }
    }
}
