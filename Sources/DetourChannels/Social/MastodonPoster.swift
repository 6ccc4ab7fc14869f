import DetourCore
import DetourTransport
import Foundation
import Logging

/// Posts a status on the business's Mastodon account (`POST {instance}/api/v1/statuses` with a
/// bearer token and the delivery's id as `Idempotency-Key`, so a retry after a crash never posts
/// twice within Mastodon's hour); the all-clear is a reply (`in_reply_to_id`). A 422 (too long,
/// blank) and a bad token are permanent; 429 waits for `X-RateLimit-Reset`. The reply kept is
/// `mastodon status ID URL`.
public struct MastodonPoster: Channel {
    let settings: SocialAccount.Mastodon
    let texts: SocialText
    let http: SocialClient
    let logger: Logger

    public init(settings: SocialAccount.Mastodon, templates: TemplateRefs, network: WebhookNetwork, client: CurlHTTPClient,
                logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) throws(TemplateRenderer.Problem) {
        self.settings = settings; self.texts = try SocialText(templates); self.logger = logger
        http = SocialClient(kind: .mastodon, network: network, client: client, secrets: [settings.accessToken.reveal()], now: now)
    }

    public func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt {
        let text = texts.render(message.context)
        let length = SocialText.length(text, for: .mastodon)
        guard !text.isEmpty, length <= 500 else {
            throw http.fail("too-long", text.isEmpty ? "the template renders an empty post" : "the post is \(length) characters (links count 23); Mastodon takes 500", retryable: false)
        }
        var body: [String: Any] = ["status": text, "visibility": settings.visibility]
        if let language = settings.language { body["language"] = language }
        if let id = Self.statusID(message.inReplyTo) { body["in_reply_to_id"] = id }
        let headers: HTTPHeaders = ["Authorization": "Bearer \(settings.accessToken.reveal())", "Idempotency-Key": message.deliveryID]
        var (response, json) = try await http.send("\(SocialClient.trimmed(settings.instance))/api/v1/statuses", headers: headers, json: body, logger: logger)
        if response.status == 404, body["in_reply_to_id"] != nil {
            // The outage post was deleted: the all-clear goes on its own (with its own key: the
            // first request's 404 is remembered under the delivery's).
            logger.info("mastodon: the outage post is gone; posting the all-clear on its own")
            body.removeValue(forKey: "in_reply_to_id")
            let alone: HTTPHeaders = ["Authorization": "Bearer \(settings.accessToken.reveal())", "Idempotency-Key": message.deliveryID + "-alone"]
            (response, json) = try await http.send("\(SocialClient.trimmed(settings.instance))/api/v1/statuses", headers: alone, json: body, logger: logger)
        }
        if (200...299).contains(response.status), let id = json?["id"] as? String {
            return DeliveryReceipt(reply: "mastodon status \(id)" + ((json?["url"] as? String).map { " \($0)" } ?? ""))
        }
        var wait: Duration?
        if response.status == 429, let reset = response.headers["X-RateLimit-Reset"], let at = Self.date(reset) {
            wait = .seconds(Int64(min(3600, max(1, at.timeIntervalSince(http.now()).rounded(.up)))))
        }
        if (200...299).contains(response.status) { throw http.fail("reply", "Mastodon answered without a status id", retryable: true) }
        let said = "from \(URL(string: settings.instance)?.host ?? settings.instance)" + http.quote(json?["error"])
        throw http.failure(response, said: said, retryAfter: wait, code: response.status == 422 ? "invalid" : nil)
    }

    /// The status id in a kept reply (`mastodon status 1099… https://…`).
    static func statusID(_ reply: String?) -> String? {
        guard let parts = reply?.split(separator: " "), parts.count >= 3, parts[0] == "mastodon", parts[1] == "status" else { return nil }
        return String(parts[2])
    }

    static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }
}
