/// A delivery to queue: planned from an incident event and the policy (`DeliveryPlanner`), stored
/// with the event in one transaction.
public struct NewDelivery: Sendable, Hashable {
    public var event: IncidentEvent
    public var channel: ChannelKind
    /// Email address, webhook name, or the business id for the banner. Never a URL (URLs may hold tokens).
    public var target: String
    /// Per-recipient values for email personalisation.
    public var recipientName: String?
    public var locale: String?
    /// Unique within its incident: `<event sequence>/<channel>/<target>`. A delivery whose key its
    /// incident already has is never queued again, so one event reaches one target once.
    public var idempotencyKey: String
    public init(event: IncidentEvent, channel: ChannelKind, target: String, recipientName: String? = nil,
                locale: String? = nil, idempotencyKey: String) {
        self.event = event; self.channel = channel; self.target = target; self.recipientName = recipientName
        self.locale = locale; self.idempotencyKey = idempotencyKey
    }
}
