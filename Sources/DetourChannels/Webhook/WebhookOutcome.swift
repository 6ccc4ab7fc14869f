import DetourTransport
import Foundation

/// Turns what a webhook receiver answered (or why it could not be reached) into a receipt or a
/// `DeliveryError` that says whether to retry. The table is in `channels/webhook/README.md`.
///
/// Messages name the webhook, the target as `scheme://host:port/` and the receiver's status and
/// first 200 characters of its reply, with anything that looks like the URL's path, query or the
/// signing secret cut out. They never contain the full URL or the secret.
public struct WebhookOutcome: Sendable {
    /// The webhook's name, as in the policy.
    public var channel: String
    /// `scheme://host:port/` of the target.
    public var target: String
    /// Strings that must not appear in a message: the URL, its path and query pieces, the secret.
    var hidden: [String]

    /// Statuses worth trying again: the receiver is busy, restarting or rate limiting.
    public static let retryableStatuses: Set<Int> = [408, 425, 429, 500, 502, 503, 504]
    /// 5xx statuses that say the receiver will never accept this request.
    public static let permanentServerStatuses: Set<Int> = [501, 505]
    /// The longest Retry-After honoured; longer requests are shortened to this.
    public static let maxRetryAfter: Duration = .seconds(86_400)

    public init(channel: String, url: String, secret: String?) {
        self.channel = channel
        target = redactedURL(url)
        hidden = Self.hiddenParts(url: url, secret: secret)
    }

    /// A receipt for 2xx; an error for everything else.
    public func classify(_ response: HTTPResponse, now: Date) -> Result<DeliveryReceipt, DeliveryError> {
        let status = response.status
        let reply = snippet(response.body)
        let said = "HTTP \(status)" + (reply.isEmpty ? "" : ": \(reply)")
        switch status {
        case 200...299:
            return .success(DeliveryReceipt(reply: "HTTP \(status)"))
        case 300...399:
            return .failure(error("webhook.redirect", "\(said) (redirects are not followed: put the final URL in the policy)", retryable: false))
        case 410:
            return .failure(DeliveryError(code: "webhook.gone",
                                          message: "webhook \(channel) (\(target)): \(said): the receiver says this endpoint is gone; it is disabled until the policy changes",
                                          retryable: false, disablesEndpoint: true))
        case _ where Self.retryableStatuses.contains(status),
             500...599 where !Self.permanentServerStatuses.contains(status):
            let wait = Self.retryAfter(response.headers["Retry-After"], now: now)
            return .failure(DeliveryError(code: "webhook.status", message: "webhook \(channel) (\(target)): \(said)",
                                          retryable: true, retryAfter: wait))
        default:
            return .failure(error("webhook.status", said, retryable: false))
        }
    }

    /// The error for a request that got no HTTP response.
    public func classify(_ failure: TransportError) -> DeliveryError {
        switch failure.code {
        case .refusedAddress:
            return error("webhook.refused-target",
                         "the address it resolved to is link-local, cloud metadata, or loopback/private without webhooks.allow_private_targets: refused",
                         retryable: false)
        case .invalidRequest, .tooLarge, .tooManyRedirects:
            return error("webhook.request", "\(failure.code): \(scrub(failure.message))", retryable: false)
        default:
            // Timeouts, DNS, connect, TLS and broken connections can all clear up; so can a shutdown mid-send.
            return error("webhook.\(failure.code)", scrub(failure.message), retryable: true)
        }
    }

    private func error(_ code: String, _ detail: String, retryable: Bool) -> DeliveryError {
        DeliveryError(code: code, message: "webhook \(channel) (\(target)): \(detail)", retryable: retryable)
    }

    /// The first 200 characters of a reply, on one line, with hidden parts removed.
    func snippet(_ body: Data) -> String {
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        let oneLine = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        return TextLimit.truncate(scrub(oneLine), to: 200)
    }

    /// `text` with every hidden part replaced by `…`.
    func scrub(_ text: String) -> String {
        hidden.reduce(text) { $0.replacingOccurrences(of: $1, with: "…") }
    }

    /// The URL, its path and query, their pieces of six characters or more, and the secret (with and
    /// without `whsec_`), longest first so a long piece is removed before a short one inside it.
    static func hiddenParts(url: String, secret: String?) -> [String] {
        var parts: Set<String> = [url]
        if let c = URLComponents(string: url) {
            let path = c.percentEncodedPath
            let query = c.percentEncodedQuery ?? ""
            let pieces = [path, query, c.path, c.query ?? "", c.user ?? "", c.password ?? ""]
                + path.split(whereSeparator: { "/&=;,".contains($0) }).map(String.init)
                + query.split(whereSeparator: { "/&=;,".contains($0) }).map(String.init)
                + (c.queryItems ?? []).compactMap(\.value)
            parts.formUnion(pieces.filter { $0.count >= 6 })
        }
        if let secret, !secret.isEmpty {
            parts.insert(secret)
            if secret.hasPrefix("whsec_"), secret.count > 6 { parts.insert(String(secret.dropFirst(6))) }
        }
        return parts.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    /// Seconds (`Retry-After: 7`) or an HTTP date, as a wait from `now`; nil when absent or unreadable.
    public static func retryAfter(_ value: String?, now: Date) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber) {
            guard let seconds = Int64(value) else { return maxRetryAfter }
            return min(.seconds(seconds), maxRetryAfter)
        }
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let parser = DateFormatter()
            parser.locale = Locale(identifier: "en_US_POSIX")
            parser.timeZone = TimeZone(identifier: "GMT")
            parser.dateFormat = format
            if let date = parser.date(from: value) {
                let wait = max(0, date.timeIntervalSince(now))
                return min(.milliseconds(Int64((wait * 1000).rounded(.up))), maxRetryAfter)
            }
        }
        return nil
    }
}
