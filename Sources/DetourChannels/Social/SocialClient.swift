import DetourCore
import DetourTransport
import Foundation
import Logging

/// The HTTP side every social channel shares: JSON or form requests under the webhook address rules,
/// errors that name the channel and what the platform said, and never a token.
struct SocialClient: Sendable {
    let kind: ChannelKind
    let client: CurlHTTPClient
    let timeout: Duration
    let allowPrivateTargets: Bool
    /// Tokens, passwords and secrets that must never appear in an error.
    let secrets: [String]
    let now: @Sendable () -> Date

    init(kind: ChannelKind, network: WebhookNetwork, client: CurlHTTPClient, secrets: [String], now: @escaping @Sendable () -> Date) {
        self.kind = kind; self.client = client; self.timeout = network.timeout.duration
        self.allowPrivateTargets = network.allowPrivateTargets; self.secrets = secrets.filter { !$0.isEmpty }; self.now = now
    }

    var name: String { kind.rawValue }

    /// Sends a request; the reply's JSON object comes back with it when it has one.
    func send(_ url: String, headers: HTTPHeaders = [:], json: [String: Any]? = nil, form: [(String, String)]? = nil,
              logger: Logger) async throws(DeliveryError) -> (HTTPResponse, [String: Any]?) {
        var headers = headers
        headers.add("Accept", "application/json")
        headers.add("User-Agent", "detour/\(BuildInfo.version)")
        var body = Data()
        if let json {
            body = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            headers.add("Content-Type", "application/json; charset=utf-8")
        } else if let form {
            body = Data(TwilioSMS.form(form).utf8)
            headers.add("Content-Type", "application/x-www-form-urlencoded")
        }
        let allowPrivate = allowPrivateTargets
        let request = HTTPRequest(url: url, method: "POST", headers: headers, body: body, timeout: timeout,
                                  connectTimeout: min(timeout, .seconds(10)), maxResponseBytes: 256 * 1024,
                                  allowAddress: { WebhookAddressRule(allowPrivateTargets: allowPrivate).allows($0) })
        let response: HTTPResponse
        do { response = try await client.send(request, logger: logger) } catch {
            switch error.code {
            case .refusedAddress:
                throw fail("refused-target", "the address is loopback, private or link-local: refused", retryable: false)
            case .invalidRequest, .tooLarge, .tooManyRedirects:
                throw fail("request", "\(error.code): \(error.message)", retryable: false)
            default:
                throw fail("\(error.code)", error.message, retryable: true)
            }
        }
        return (response, (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any])
    }

    /// An error for this channel: `telegram: …`, without any secret.
    func fail(_ code: String, _ message: String, retryable: Bool, retryAfter: Duration? = nil) -> DeliveryError {
        DeliveryError(code: "\(name).\(code)", message: "\(name): \(scrub(message))", retryable: retryable, retryAfter: retryAfter)
    }

    /// The usual meaning of an HTTP status that was not a success: 408, 429 and 5xx are tried again.
    func failure(_ response: HTTPResponse, said: String, retryAfter: Duration? = nil, code: String? = nil) -> DeliveryError {
        let wait = retryAfter ?? WebhookOutcome.retryAfter(response.headers["Retry-After"], now: now())
        let status = response.status
        if status == 429 { return fail(code ?? "rate", "HTTP 429 \(said)", retryable: true, retryAfter: wait) }
        if status == 408 || (500...599).contains(status) { return fail(code ?? "status", "HTTP \(status) \(said)", retryable: true, retryAfter: wait) }
        if status == 401 || status == 403 { return fail(code ?? "auth", "HTTP \(status) \(said)", retryable: false) }
        return fail(code ?? "rejected", "HTTP \(status) \(said)", retryable: false)
    }

    func scrub(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "…") }
    }

    /// A platform's own words, short and without secrets.
    func quote(_ text: Any?) -> String {
        guard let text = text as? String, !text.isEmpty else { return "" }
        return ": " + TextLimit.truncate(scrub(text), to: 200)
    }

    static func trimmed(_ base: String) -> String { base.hasSuffix("/") ? String(base.dropLast()) : base }
}
