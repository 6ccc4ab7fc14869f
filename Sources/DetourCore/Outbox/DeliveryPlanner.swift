/// Turns one incident event into the deliveries that carry it, following the policy: every
/// audience member who may still be emailed, the banner, and every webhook.
///
/// The rules that keep customers from being spammed live here:
/// - an opened event emails a customer only while the all-clear still fits under `max_per_customer`
///   (the first outage email always goes);
/// - the all-clear goes only to customers who were told about the outage in this incident;
/// - unsubscribed addresses and webhooks disabled by a 410 get nothing;
/// - the idempotency key makes the same event for the same target impossible to queue twice.
public struct DeliveryPlanner: Sendable {
    public init() {}

    /// - Parameters:
    ///   - emailCounts: emails already promised to each address (lowercased) in this incident.
    ///   - disabledWebhooks: webhook names that answered 410 under the current policy.
    public func plan(policy: Policy, sequence: Int, event: IncidentEvent,
                     unsubscribed: Set<String>, emailCounts: [String: Int],
                     disabledWebhooks: Set<String> = []) -> [NewDelivery] {
        let sendsAllClear = { (kind: ChannelKind) in policy.recovery.allClear.contains(kind) }
        var out: [NewDelivery] = []
        // Unique within the incident (the store makes it unique per incident): one event, one target, once.
        func key(_ channel: ChannelKind, _ target: String) -> String { "\(sequence)/\(channel.rawValue)/\(target)" }

        if let email = policy.email, event == .opened || sendsAllClear(.email) {
            let cap = max(1, email.maxPerCustomer)
            let reserve = sendsAllClear(.email) ? 1 : 0
            var seen = Set<String>()
            out.reserveCapacity(email.audience.recipients.count + policy.webhooks.count + 1)
            for r in email.audience.recipients {
                let address = r.email.lowercased()
                guard seen.insert(address).inserted, !unsubscribed.contains(address) else { continue }
                let count = emailCounts[address] ?? 0
                let allowed: Bool = switch event {
                case .opened: count == 0 || count + reserve < cap
                case .resolved: count > 0 && count < cap
                }
                guard allowed else { continue }
                out.append(NewDelivery(event: event, channel: .email, target: r.email, recipientName: r.name,
                                       locale: r.locale, idempotencyKey: key(.email, address)))
            }
        }
        if policy.banner != nil {
            // The banner always comes down on resolve, whatever the all-clear list says.
            out.append(NewDelivery(event: event, channel: .banner, target: policy.business.rawValue,
                                   idempotencyKey: key(.banner, policy.business.rawValue)))
        }
        if event == .opened || sendsAllClear(.webhook) {
            for webhook in policy.webhooks where !disabledWebhooks.contains(webhook.name) {
                out.append(NewDelivery(event: event, channel: .webhook, target: webhook.name,
                                       idempotencyKey: key(.webhook, webhook.name)))
            }
        }
        return out
    }
}
