import DetourCore
import Foundation

/// A way to reach people that a business owns: email, its website banner, its webhooks.
///
/// A channel sends one message and says how it went; it never retries (the delivery worker does,
/// using `DeliveryError.retryable` and `retryAfter`).
public protocol Channel: Sendable {
    func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt
}

/// What a channel is asked to send: one message, for one recipient or endpoint, for one incident event.
public struct OutgoingMessage: Sendable {
    /// Stable across retries: it becomes the email Message-ID and the webhook-id, so receivers can drop duplicates.
    public var deliveryID: String
    /// Email address, webhook name, or the business id for the banner.
    public var recipient: String
    public var context: MessageContext
    /// For an all-clear post: what the platform answered to the outage post (`telegram message 7 in @x`), to reply to it.
    public var inReplyTo: String?

    public init(deliveryID: String, recipient: String, context: MessageContext, inReplyTo: String? = nil) {
        self.deliveryID = deliveryID; self.recipient = recipient; self.context = context; self.inReplyTo = inReplyTo
    }
}

/// Which moment of an incident a message is about.
public enum MessageEvent: String, Sendable, Hashable, Codable, CaseIterable {
    /// Customers are told where to go instead.
    case opened
    /// The all-clear.
    case resolved
    /// `detour send-test`: a real message that says it is a test.
    case test
    /// For the business's staff, never its customers (a probe's access token refused): on the
    /// policy's `staff_webhook` only.
    case alert
}

extension MessageEvent {
    /// The events that reach customers (email, texts, posts, the banner); `alert` goes to staff webhooks only.
    public static let toCustomers: [MessageEvent] = [.opened, .resolved, .test]
}

extension MessageEvent {
    /// The message for an incident event.
    public init(_ event: IncidentEvent) {
        switch event {
        case .opened: self = .opened
        case .resolved: self = .resolved
        }
    }
}

/// Everything a template may use. Documented for users in `channels/README.md`.
public struct MessageContext: Sendable, Hashable, Codable {
    public var event: MessageEvent
    public var businessID: String
    public var businessName: String
    public var incidentID: String
    /// Display names of the platforms that are down (or were), e.g. ["Instagram", "WhatsApp"].
    public var platforms: [String]
    /// When the incident opened.
    public var since: Date
    /// When it was resolved (resolved events only).
    public var resolvedAt: Date?
    /// The policy's outage or recovery text (or the banner's own message).
    public var message: String
    public var contacts: [ContactLink]
    /// Per-recipient (email): the customer's name, address and locale.
    public var recipientName: String?
    public var recipientEmail: String?
    public var locale: String?
    /// One-click unsubscribe link (email).
    public var unsubscribeURL: String?
    /// Which event of the incident this is (1 opened, 2 resolved, 3 reopened, …), so a channel can
    /// tell a reopen from a late retry of an older event. Nil for tests.
    public var eventSequence: Int?

    public init(event: MessageEvent, businessID: String, businessName: String, incidentID: String, platforms: [String],
                since: Date, resolvedAt: Date? = nil, message: String, contacts: [ContactLink],
                recipientName: String? = nil, recipientEmail: String? = nil, locale: String? = nil, unsubscribeURL: String? = nil,
                eventSequence: Int? = nil) {
        self.eventSequence = eventSequence
        self.event = event; self.businessID = businessID; self.businessName = businessName; self.incidentID = incidentID
        self.platforms = platforms; self.since = since; self.resolvedAt = resolvedAt; self.message = message; self.contacts = contacts
        self.recipientName = recipientName; self.recipientEmail = recipientEmail; self.locale = locale; self.unsubscribeURL = unsubscribeURL
    }
}

/// What the receiving side said when it accepted a message (an SMTP reply, an HTTP status).
public struct DeliveryReceipt: Sendable, Hashable, Codable {
    public var reply: String
    public init(reply: String) { self.reply = reply }
}

/// Why a delivery failed, and whether trying again can help.
public struct DeliveryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable reason code, e.g. `smtp.rejected`, `webhook.status`, `webhook.gone`, `banner.write`.
    public var code: String
    /// For people: the channel, the recipient and the server's reply. Never a secret.
    public var message: String
    /// True when a later attempt may succeed (4xx SMTP, connection failures, 408/429/5xx HTTP, timeouts).
    public var retryable: Bool
    /// The receiver asked us to wait this long (HTTP Retry-After).
    public var retryAfter: Duration?
    /// The endpoint is gone for good (HTTP 410): stop using it until the policy changes.
    public var disablesEndpoint: Bool

    public init(code: String, message: String, retryable: Bool, retryAfter: Duration? = nil, disablesEndpoint: Bool = false) {
        self.code = code; self.message = message; self.retryable = retryable
        self.retryAfter = retryAfter; self.disablesEndpoint = disablesEndpoint
    }

    /// The code and the message. Whether it will be retried is not said here: only whoever records
    /// the outcome knows (a retryable error can still be the last attempt).
    public var description: String { "\(code): \(message)" }
}
