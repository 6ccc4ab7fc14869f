import Synchronization

/// Turns one incident event into the deliveries that carry it, following the policy: every
/// audience member who may still be emailed, the banner, and every webhook.
///
/// The rules that keep customers from being spammed live here:
/// - an opened event emails a customer only while the all-clear still fits under `max_per_customer`
///   (the first outage email always goes);
/// - the all-clear goes only to customers who were told about the outage in this incident;
/// - an address listed twice (in any case) is emailed once; unsubscribed addresses and webhooks
///   disabled by a 410 get nothing;
/// - the idempotency key makes the same event for the same target impossible to queue twice.
public struct DeliveryPlanner: Sendable {
    public init() {}

    /// The deliveries of one event, made one at a time as the store writes them, so an audience of
    /// 100,000 is never held as 100,000 planned deliveries at once.
    /// - Parameters:
    ///   - emailCounts: emails already promised to each address (lowercased) in this incident.
    ///   - disabledWebhooks: webhook names that answered 410 under the current policy.
    public func deliveries(policy: Policy, sequence: Int, event: IncidentEvent, unsubscribed: Set<String>,
                           emailCounts: [String: Int], disabledWebhooks: Set<String> = []) -> PlannedDeliveries {
        PlannedDeliveries(policy: policy, sequence: sequence, event: event, unsubscribed: unsubscribed,
                          emailCounts: emailCounts, disabledWebhooks: disabledWebhooks)
    }

    /// The same deliveries, as an array.
    public func plan(policy: Policy, sequence: Int, event: IncidentEvent, unsubscribed: Set<String>,
                     emailCounts: [String: Int], disabledWebhooks: Set<String> = []) -> [NewDelivery] {
        Array(deliveries(policy: policy, sequence: sequence, event: event, unsubscribed: unsubscribed,
                         emailCounts: emailCounts, disabledWebhooks: disabledWebhooks))
    }
}

/// The deliveries one incident event calls for (`DeliveryPlanner`), made lazily: each iteration
/// applies the rules afresh. `made` counts what the last full iteration produced.
public struct PlannedDeliveries: Sequence, Sendable {
    let policy: Policy
    let sequence: Int
    let event: IncidentEvent
    let unsubscribed: Set<String>
    let emailCounts: [String: Int]
    let disabledWebhooks: Set<String>
    private let counter = Counter()

    init(policy: Policy, sequence: Int, event: IncidentEvent, unsubscribed: Set<String>, emailCounts: [String: Int],
         disabledWebhooks: Set<String>) {
        self.policy = policy; self.sequence = sequence; self.event = event; self.unsubscribed = unsubscribed
        self.emailCounts = emailCounts; self.disabledWebhooks = disabledWebhooks
    }

    /// How many deliveries the last complete iteration made.
    public var made: Int { counter.value.load(ordering: .relaxed) }

    public func makeIterator() -> Iterator { Iterator(self) }

    public struct Iterator: IteratorProtocol {
        private enum Stage { case emails(Int), banner, webhooks(Int), done }
        private let plan: PlannedDeliveries
        private var stage: Stage
        private var seen = Set<String>()
        private var made = 0
        private let emailing: Bool
        private let cap: Int
        private let reserve: Int

        init(_ plan: PlannedDeliveries) {
            self.plan = plan
            let allClear = plan.policy.recovery.allClear
            emailing = plan.policy.email != nil && (plan.event == .opened || allClear.contains(.email))
            cap = Swift.max(1, plan.policy.email?.maxPerCustomer ?? 1)
            reserve = allClear.contains(.email) ? 1 : 0
            stage = .emails(0)
        }

        // Unique within the incident (the store makes it unique per incident): one event, one target, once.
        private func key(_ channel: ChannelKind, _ target: String) -> String { "\(plan.sequence)/\(channel.rawValue)/\(target)" }

        public mutating func next() -> NewDelivery? {
            while true {
                switch stage {
                case .emails(let i):
                    guard emailing, let recipients = plan.policy.email?.audience.recipients, i < recipients.count else {
                        stage = .banner; continue
                    }
                    stage = .emails(i + 1)
                    let r = recipients[i]
                    let address = Self.lowercased(r.email)
                    guard seen.insert(address).inserted, !plan.unsubscribed.contains(address) else { continue }
                    let count = plan.emailCounts[address] ?? 0
                    let allowed: Bool = switch plan.event {
                    case .opened: count == 0 || count + reserve < cap
                    case .resolved: count > 0 && count < cap
                    }
                    guard allowed else { continue }
                    return yield(NewDelivery(event: plan.event, channel: .email, target: r.email, recipientName: r.name,
                                             locale: r.locale, idempotencyKey: key(.email, address)))
                case .banner:
                    stage = .webhooks(0)
                    // The banner always comes down on resolve, whatever the all-clear list says.
                    guard plan.policy.banner != nil else { continue }
                    let business = plan.policy.business.rawValue
                    return yield(NewDelivery(event: plan.event, channel: .banner, target: business, idempotencyKey: key(.banner, business)))
                case .webhooks(let i):
                    let hooks = plan.policy.webhooks
                    guard plan.event == .opened || plan.policy.recovery.allClear.contains(.webhook), i < hooks.count else {
                        stage = .done; continue
                    }
                    stage = .webhooks(i + 1)
                    guard !plan.disabledWebhooks.contains(hooks[i].name) else { continue }
                    return yield(NewDelivery(event: plan.event, channel: .webhook, target: hooks[i].name,
                                             idempotencyKey: key(.webhook, hooks[i].name)))
                case .done:
                    plan.counter.value.store(made, ordering: .relaxed)
                    return nil
                }
            }
        }

        private mutating func yield(_ d: NewDelivery) -> NewDelivery {
            made += 1
            return d
        }

        /// The address in lower case, sharing the original's storage when it has no capitals (the usual case).
        static func lowercased(_ address: String) -> String {
            address.utf8.contains { ($0 >= 0x41 && $0 <= 0x5A) || $0 >= 0x80 } ? address.lowercased() : address
        }
    }
}

/// A count shared by the copies of one plan.
private final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
