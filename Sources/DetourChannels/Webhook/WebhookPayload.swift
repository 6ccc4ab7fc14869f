import DetourCore
import Foundation

/// The JSON body of the `standard` and `json` formats, version 1.
///
/// Documented for receivers in `channels/webhook/README.md` and `channels/webhook/payload.schema.json`.
/// Fields are only ever added within a version; a change that breaks receivers gets a new `version`.
public struct WebhookPayload: Sendable, Hashable, Encodable {
    /// `detour.incident.opened`, `detour.incident.resolved` or `detour.test`.
    public var type: String
    public var version: Int
    /// The delivery id, also sent as `webhook-id`: the same on every retry, so receivers can drop duplicates.
    public var id: String
    /// When the event happened (RFC 3339, UTC): the incident's start, or its resolution.
    public var timestamp: String
    public var data: Payload

    /// What the event is about.
    public struct Payload: Sendable, Hashable, Encodable {
        public var business: Business
        public var incident: String
        public var platforms: [String]
        public var since: String
        public var resolvedAt: String?
        public var message: String
        public var contacts: [ContactLink]
        public var test: Bool
        public var headline: String
        public var text: String

        enum CodingKeys: String, CodingKey {
            case business, incident, platforms, since, resolvedAt = "resolved_at", message, contacts, test, headline, text
        }

        // Writes `resolved_at: null` rather than leaving it out, so every payload has the same keys.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(business, forKey: .business)
            try c.encode(incident, forKey: .incident)
            try c.encode(platforms, forKey: .platforms)
            try c.encode(since, forKey: .since)
            try c.encode(resolvedAt, forKey: .resolvedAt)
            try c.encode(message, forKey: .message)
            try c.encode(contacts, forKey: .contacts)
            try c.encode(test, forKey: .test)
            try c.encode(headline, forKey: .headline)
            try c.encode(text, forKey: .text)
        }
    }

    public struct Business: Sendable, Hashable, Encodable {
        public var id: String
        public var name: String
    }

    public static let currentVersion = 1

    public init(deliveryID: String, context c: MessageContext, text: WebhookText) {
        switch c.event {
        case .opened: type = "detour.incident.opened"
        case .resolved: type = "detour.incident.resolved"
        case .test: type = "detour.test"
        case .alert: type = "detour.operator.alert"
        }
        version = Self.currentVersion
        id = deliveryID
        timestamp = UTCDates.iso(c.event == .resolved ? (c.resolvedAt ?? c.since) : c.since)
        data = Payload(business: Business(id: c.businessID, name: c.businessName), incident: c.incidentID,
                       platforms: c.platforms, since: UTCDates.iso(c.since), resolvedAt: c.resolvedAt.map(UTCDates.iso),
                       message: c.message, contacts: c.contacts, test: c.event == .test,
                       headline: text.headline, text: text.body)
    }
}

/// Compact JSON with a stable key order, as every webhook format sends it.
enum WebhookJSON {
    static func encode(_ value: some Encodable, channel: String) throws(DeliveryError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            throw DeliveryError(code: "webhook.encode", message: "webhook \(channel): cannot encode the body: \(error)", retryable: false)
        }
    }
}
