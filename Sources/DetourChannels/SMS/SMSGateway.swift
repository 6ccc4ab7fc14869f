import DetourCore
import DetourTransport
import Foundation
import Logging

/// One SMS provider's API: sends one text and says how it went, with the provider's message id as the reply.
protocol SMSGateway: Sendable {
    func send(to: String, body: String, deliveryID: String, logger: Logger) async throws(DeliveryError) -> DeliveryReceipt
}

extension TwilioSMS: SMSGateway {
    func send(to: String, body: String, deliveryID: String, logger: Logger) async throws(DeliveryError) -> DeliveryReceipt {
        try await send(to: to, body: body, logger: logger)
    }
}

/// What every provider shares: the HTTP request under the webhook address rules, and transport
/// failures told apart (a refused address or a malformed request is permanent, the rest is retried).
struct SMSRequests: Sendable {
    let client: CurlHTTPClient
    let timeout: Duration
    let allowPrivateTargets: Bool
    /// Secrets that must never appear in an error.
    let secrets: [String]

    func send(_ url: String, method: String = "POST", headers: HTTPHeaders, body: Data, to: String,
              logger: Logger) async throws(DeliveryError) -> HTTPResponse {
        let allowPrivate = allowPrivateTargets
        let request = HTTPRequest(url: url, method: method, headers: headers, body: body, timeout: timeout,
                                  connectTimeout: min(timeout, .seconds(10)), maxResponseBytes: 64 * 1024,
                                  allowAddress: { WebhookAddressRule(allowPrivateTargets: allowPrivate).allows($0) })
        do { return try await client.send(request, logger: logger) } catch {
            switch error.code {
            case .refusedAddress:
                throw DeliveryError(code: "sms.refused-target", message: "sms to \(to): the SMS provider's address is loopback, private or link-local: refused",
                                    retryable: false)
            case .invalidRequest, .tooLarge, .tooManyRedirects:
                throw DeliveryError(code: "sms.request", message: "sms to \(to): \(error.code): \(scrub(error.message))", retryable: false)
            default:
                throw DeliveryError(code: "sms.\(error.code)", message: "sms to \(to): \(scrub(error.message))", retryable: true)
            }
        }
    }

    func scrub(_ text: String) -> String {
        secrets.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "…") }
    }
}

/// Sends one text through Vonage's SMS API (`POST {base}/sms/json`, a form with `api_key`,
/// `api_secret`, `from`, `to` without its `+`, `text`, `type=unicode` when the text needs UCS-2 and
/// `client-ref`). Vonage answers HTTP 200 whatever happened and puts a status in each message:
/// `0` is sent (the reply keeps its `message-id`, one per part of a long text); `1` (throughput
/// exceeded), `5` (an internal error), `9` (out of credit: top up and it goes) and `10` (too many
/// binds) are tried again; every other status is permanent and kept with Vonage's `error-text`.
struct VonageSMS: SMSGateway {
    let settings: SMSProvider.Vonage
    let requests: SMSRequests
    let now: @Sendable () -> Date

    static let retryable: Set<String> = ["1", "5", "9", "10"]
    static let codes: [String: String] = ["4": "sms.auth", "8": "sms.auth", "6": "sms.invalid-number", "7": "sms.barred",
                                          "29": "sms.invalid-number", "12": "sms.too-long", "15": "sms.sender"]

    var endpoint: String {
        let base = settings.baseURL.hasSuffix("/") ? String(settings.baseURL.dropLast()) : settings.baseURL
        return "\(base)/sms/json"
    }

    func send(to: String, body: String, deliveryID: String, logger: Logger) async throws(DeliveryError) -> DeliveryReceipt {
        var fields = [("api_key", settings.apiKey), ("api_secret", settings.apiSecret.reveal()),
                      ("from", settings.from.hasPrefix("+") ? String(settings.from.dropFirst()) : settings.from),
                      ("to", to.hasPrefix("+") ? String(to.dropFirst()) : to), ("text", body),
                      ("client-ref", String(deliveryID.suffix(100)))]
        if SMSSegments(body).encoding == .ucs2 { fields.append(("type", "unicode")) }
        let headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                                    "User-Agent": "detour-sms/\(BuildInfo.version)"]
        let response = try await requests.send(endpoint, headers: headers, body: Data(TwilioSMS.form(fields).utf8), to: to, logger: logger)
        return try classify(response, to: to).get()
    }

    func classify(_ response: HTTPResponse, to: String) -> Result<DeliveryReceipt, DeliveryError> {
        guard (200...299).contains(response.status) else {
            let said = "vonage answered HTTP \(response.status)"
            if response.status == 429 || (500...599).contains(response.status) {
                return .failure(DeliveryError(code: response.status == 429 ? "sms.rate" : "sms.status", message: "sms to \(to): \(said)", retryable: true,
                                              retryAfter: WebhookOutcome.retryAfter(response.headers["Retry-After"], now: now())))
            }
            return .failure(DeliveryError(code: "sms.status", message: "sms to \(to): \(said)", retryable: false))
        }
        let json = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        guard let messages = json?["messages"] as? [[String: Any]], !messages.isEmpty else {
            return .failure(DeliveryError(code: "sms.reply", message: "sms to \(to): vonage answered without a message status", retryable: true))
        }
        // A long text is one message per part; it is sent when every part is.
        if let failed = messages.first(where: { Self.status($0) != "0" }) {
            let status = Self.status(failed)
            let text = (failed["error-text"] as? String).map { ": \(TextLimit.truncate(requests.scrub($0), to: 200))" } ?? ""
            let said = "vonage status \(status)\(text)"
            if Self.retryable.contains(status) {
                return .failure(DeliveryError(code: status == "1" ? "sms.rate" : status == "9" ? "sms.quota" : "sms.status",
                                              message: "sms to \(to): \(said)", retryable: true))
            }
            return .failure(DeliveryError(code: Self.codes[status] ?? "sms.rejected", message: "sms to \(to): \(said)", retryable: false))
        }
        let ids = messages.compactMap { $0["message-id"] as? String }
        return .success(DeliveryReceipt(reply: "vonage \(ids.joined(separator: ",")) accepted"))
    }

    static func status(_ m: [String: Any]) -> String {
        (m["status"] as? String) ?? (m["status"] as? Int).map(String.init) ?? "?"
    }
}

/// Sends one text through any gateway: the business's method, URL, headers and body template
/// (values `to`, `text`, `delivery_id` and the usual ones, escaped for the content type). A 2xx
/// answer is sent; 408, 429 and 5xx are tried again (after `Retry-After`); other answers are permanent.
struct HTTPGatewaySMS: SMSGateway {
    let settings: SMSProvider.HTTPGateway
    let body: CustomBody
    let requests: SMSRequests
    let now: @Sendable () -> Date

    func send(to: String, body text: String, deliveryID: String, logger: Logger) async throws(DeliveryError) -> DeliveryReceipt {
        try await send(to: to, text: text, deliveryID: deliveryID, values: [:], logger: logger)
    }

    func send(to: String, text: String, deliveryID: String, values: [String: Any], logger: Logger) async throws(DeliveryError) -> DeliveryReceipt {
        var values = values
        values["to"] = to; values["text"] = text; values["delivery_id"] = deliveryID
        let data: Data
        if let rendered = body.render(values: values) { data = rendered } else {
            data = (try? JSONSerialization.data(withJSONObject: ["to": to, "text": text, "delivery_id": deliveryID], options: [.sortedKeys])) ?? Data()
        }
        var headers: HTTPHeaders = ["Content-Type": settings.request.contentType, "User-Agent": "detour-sms/\(BuildInfo.version)"]
        for header in settings.request.headers { headers.add(header.name, header.value.reveal()) }
        let response = try await requests.send(settings.url.reveal(), method: settings.request.method, headers: headers, body: data, to: to, logger: logger)
        let said = "the gateway answered HTTP \(response.status)" + Self.excerpt(response.body).map { ": \(requests.scrub($0))" }.orEmpty
        if (200...299).contains(response.status) { return DeliveryReceipt(reply: "http \(response.status)" + Self.excerpt(response.body).map { " \(requests.scrub($0))" }.orEmpty) }
        if [408, 429].contains(response.status) || (500...599).contains(response.status) {
            throw DeliveryError(code: response.status == 429 ? "sms.rate" : "sms.status", message: "sms to \(to): \(said)", retryable: true,
                                retryAfter: WebhookOutcome.retryAfter(response.headers["Retry-After"], now: now()))
        }
        throw DeliveryError(code: "sms.status", message: "sms to \(to): \(said)", retryable: false)
    }

    /// The first line of a reply, short, when it is text.
    static func excerpt(_ body: Data) -> String? {
        guard !body.isEmpty, let text = String(data: body.prefix(400), encoding: .utf8) else { return nil }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        return line.isEmpty ? nil : TextLimit.truncate(line, to: 120)
    }
}

extension Optional where Wrapped == String {
    var orEmpty: String { self ?? "" }
}
