import DetourCore
import DetourTransport
import Foundation
import Logging

/// Posts to a Telegram channel or group through the Bot API (`POST {base}/bot{token}/sendMessage`,
/// plain text, link previews off); the all-clear is a reply to the outage post. A 429 is tried
/// again after Telegram's `parameters.retry_after`; "chat not found", a bot that is not a member
/// and a wrong token are permanent. The reply kept is `telegram message N in CHAT`.
public struct TelegramPoster: Channel {
    let settings: SocialAccount.Telegram
    let texts: SocialText
    let http: SocialClient
    let logger: Logger

    public init(settings: SocialAccount.Telegram, templates: TemplateRefs, network: WebhookNetwork, client: CurlHTTPClient,
                logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) throws(TemplateRenderer.Problem) {
        self.settings = settings; self.texts = try SocialText(templates); self.logger = logger
        http = SocialClient(kind: .telegram, network: network, client: client, secrets: [settings.botToken.reveal()], now: now)
    }

    /// A numeric chat id goes as a number, a `@username` as a string.
    var chat: Any { Int64(settings.chatID).map { $0 as Any } ?? settings.chatID }

    public func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt {
        let text = texts.render(message.context)
        let length = SocialText.length(text, for: .telegram)
        guard !text.isEmpty, length <= 4096 else {
            throw http.fail("too-long", text.isEmpty ? "the template renders an empty post" : "the post is \(length) characters; Telegram takes 4,096", retryable: false)
        }
        var body: [String: Any] = ["chat_id": chat, "text": text, "link_preview_options": ["is_disabled": true]]
        if let id = Self.messageID(message.inReplyTo) {
            body["reply_parameters"] = ["message_id": id, "allow_sending_without_reply": true]
        }
        let url = "\(SocialClient.trimmed(settings.baseURL))/bot\(settings.botToken.reveal())/sendMessage"
        let (response, json) = try await http.send(url, json: body, logger: logger)
        if (200...299).contains(response.status), json?["ok"] as? Bool == true,
           let result = json?["result"] as? [String: Any], let id = (result["message_id"] as? NSNumber)?.int64Value {
            return DeliveryReceipt(reply: "telegram message \(id) in \(settings.chatID)")
        }
        let said = "to chat \(settings.chatID)" + http.quote(json?["description"])
        let parameters = json?["parameters"] as? [String: Any]
        let wait = (parameters?["retry_after"] as? NSNumber).map { Duration.seconds(min($0.int64Value, 3600)) }
        if (200...299).contains(response.status) { throw http.fail("reply", "Telegram answered without a message id", retryable: true) }
        throw http.failure(response, said: said, retryAfter: wait)
    }

    /// The message id in a kept reply (`telegram message 7 in @x`).
    static func messageID(_ reply: String?) -> Int64? {
        guard let parts = reply?.split(separator: " "), parts.count >= 3, parts[0] == "telegram", parts[1] == "message" else { return nil }
        return Int64(parts[2])
    }
}
