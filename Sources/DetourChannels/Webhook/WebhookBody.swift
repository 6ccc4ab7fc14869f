import DetourCore
import Foundation

/// What one webhook request carries: the JSON body and the headers that go with its format.
public struct WebhookBody: Sendable {
    public var data: Data
    /// Format-specific headers (the Standard Webhooks `webhook-*` headers); Content-Type is added by the sender.
    public var headers: [(String, String)]
    public var contentType = "application/json"

    /// Builds the request body for `format`. `timestamp` is the attempt time in unix seconds (signed for `standard`).
    /// - Throws: `webhook.secret` when `standard` has no usable signing secret; `webhook.encode` if encoding fails.
    public static func make(format: WebhookChannel.Format, channel: String, message: OutgoingMessage, text: WebhookText,
                            secret: Secret?, timestamp: Int64, custom: CustomBody? = nil) throws(DeliveryError) -> WebhookBody {
        let context = message.context
        switch format {
        case .custom:
            let data: Data
            if let custom {
                data = try custom.render(message, text: text, channel: channel)
            } else {
                data = try WebhookJSON.encode(WebhookPayload(deliveryID: message.deliveryID, context: context, text: text), channel: channel)
            }
            var body = secret == nil ? WebhookBody(data: data, headers: [])
                : try signed(data, channel: channel, message: message, secret: secret, timestamp: timestamp)
            body.contentType = custom?.contentType ?? "application/json"
            return body
        case .json:
            let data = try WebhookJSON.encode(WebhookPayload(deliveryID: message.deliveryID, context: context, text: text), channel: channel)
            return WebhookBody(data: data, headers: [])
        case .standard:
            let data = try WebhookJSON.encode(WebhookPayload(deliveryID: message.deliveryID, context: context, text: text), channel: channel)
            return try signed(data, channel: channel, message: message, secret: secret, timestamp: timestamp)
        case .slack:
            return WebhookBody(data: try WebhookJSON.encode(SlackBody(context: context, text: text), channel: channel), headers: [])
        case .teams:
            return WebhookBody(data: try WebhookJSON.encode(TeamsBody(context: context, text: text), channel: channel), headers: [])
        case .discord:
            return WebhookBody(data: try WebhookJSON.encode(DiscordBody(context: context, text: text), channel: channel), headers: [])
        }
    }

    /// `data` with the Standard Webhooks headers that sign it.
    static func signed(_ data: Data, channel: String, message: OutgoingMessage, secret: Secret?, timestamp: Int64) throws(DeliveryError) -> WebhookBody {
        // The id is signed as "{id}.{timestamp}.{body}": a "." (or a header-breaking character) would make it ambiguous.
        guard isSignableID(message.deliveryID) else {
            throw DeliveryError(code: "webhook.id", message: "webhook \(channel): delivery id '\(message.deliveryID.prefix(80))' cannot be signed (letters, digits, '_', '-', ':' only, at most 200)",
                                retryable: false)
        }
        let signer: StandardWebhookSignature
        do {
            guard let secret else { throw StandardWebhookSignature.InvalidSecret() }
            signer = try StandardWebhookSignature(secret: secret.reveal())
        } catch {
            throw DeliveryError(code: "webhook.secret",
                                message: "webhook \(channel): signing needs a secret of whsec_ followed by base64 (\(secret?.description ?? "none set"))",
                                retryable: false)
        }
        return WebhookBody(data: data, headers: [
            ("webhook-id", message.deliveryID),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signer.sign(id: message.deliveryID, timestamp: timestamp, body: data)),
        ])
    }

    static func isSignableID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 200
            && id.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "_-:".unicodeScalars.contains($0) }
    }
}
