import CCurl
import Foundation

extension HTTPTransfer {
    /// Turns a failed libcurl result into an error a person can act on, naming the phase that
    /// failed and only `scheme://host:port/` of the URL.
    func describeFailure(_ result: CURLcode) -> TransportError {
        let target = redactedURL(request.url)
        let curlText = scrub(curlErrorText(result))
        var code = TransportError.code(for: result)
        let message: String
        if result == CURLE_ABORTED_BY_CALLBACK, let ip = refusedIP {
            code = .refusedAddress
            message = "refused to send to \(target): address \(ip) is not allowed"
        } else if result == CURLE_WRITE_ERROR, headerBytes > HTTPTransfer.maxHeaderBytes {
            code = .tooLarge
            message = "response headers from \(target) exceed \(HTTPTransfer.maxHeaderBytes) bytes"
        } else if code == .timeout {
            message = timeoutMessage(target: target)
        } else {
            let what = switch code {
            case .dnsFailure: "could not resolve the host of"
            case .connectFailure: "could not connect to"
            case .tlsFailure: "TLS failed with"
            case .tooManyRedirects: "too many redirects (more than \(request.maxRedirects)) from"
            case .connectionLost: "the connection broke talking to"
            case .invalidRequest: "cannot send to"
            default: "request failed to"
            }
            message = "\(what) \(target) (\(curlText))"
        }
        return TransportError(code: code, curlMessage: curlText, message: message)
    }

    /// Names the phase the timeout cut short, from how far the transfer got.
    private func timeoutMessage(target: String) -> String {
        let timings = easy.timings()
        let isTLS = request.url.lowercased().hasPrefix("https:")
        if timings.connect == .zero {
            let limit = min(request.connectTimeout, request.timeout)
            return "timed out after \(describeSeconds(limit)) connecting to \(target)"
        }
        let phase: String
        if isTLS && timings.appConnect == .zero {
            phase = "in the TLS handshake with"
        } else if timings.startTransfer == .zero {
            phase = "waiting for a reply from"
        } else {
            phase = "reading the reply from"
        }
        return "timed out after \(describeSeconds(request.timeout)) \(phase) \(target)"
    }

    /// libcurl's detailed text from the error buffer, else its generic text for `result`.
    private func curlErrorText(_ result: CURLcode) -> String {
        let detail = String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
        return detail.isEmpty ? CurlEasy.describe(result) : detail
    }

    /// Removes the URL's path, query and fragment from text that may quote them.
    private func scrub(_ text: String) -> String {
        var result = text.replacingOccurrences(of: request.url, with: redactedURL(request.url))
        if let parts = URLComponents(string: request.url) {
            let secrets = [parts.percentEncodedQuery, parts.percentEncodedFragment, parts.percentEncodedPath,
                           parts.percentEncodedPassword, parts.percentEncodedUser]
            for case let secret? in secrets where secret.count > 1 {
                result = result.replacingOccurrences(of: secret, with: "…")
            }
        }
        return result
    }
}
