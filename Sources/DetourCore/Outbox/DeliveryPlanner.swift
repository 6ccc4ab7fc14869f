import Synchronization

/// Turns one incident event into the deliveries that carry it, following the policy: every
/// audience member who may still be emailed or texted, the banner, and every webhook.
///
/// The rules that keep customers from being spammed live here:
/// - an opened event emails a customer only while the all-clear still fits under `max_per_customer`
///   (the first outage email always goes);
/// - the all-clear goes only to customers who were told about the outage in this incident;
/// - an address listed twice (in any case) is emailed once; unsubscribed addresses and webhooks
///   disabled by a 410 get nothing;
/// - texts follow the same rules per phone number with the SMS channel's own cap; a number that
///   opted out (the audience's `sms_opt_out`) or replied STOP (the stop file) gets nothing;
/// - the idempotency key makes the same event for the same target impossible to queue twice.
public struct DeliveryPlanner: Sendable {
    public init() {}

    /// The deliveries of one event, made one at a time as the store writes them, so an audience of
    /// 100,000 is never held as 100,000 planned deliveries at once.
    /// - Parameters:
    ///   - emailCounts: emails and texts already promised to each address (lowercased) or phone number in this incident.
    ///   - disabledWebhooks: webhook names that answered 410 under the current policy.
    ///   - stopped: phone numbers that replied STOP.
    public func deliveries(policy: Policy, sequence: Int, event: IncidentEvent, unsubscribed: Set<String>,
                           emailCounts: [String: Int], disabledWebhooks: Set<String> = [], stopped: Set<String> = []) -> PlannedDeliveries {
        PlannedDeliveries(policy: policy, sequence: sequence, event: event, unsubscribed: unsubscribed,
                          emailCounts: emailCounts, disabledWebhooks: disabledWebhooks, stopped: stopped)
    }

    /// The same deliveries, as an array.
    public func plan(policy: Policy, sequence: Int, event: IncidentEvent, unsubscribed: Set<String>,
                     emailCounts: [String: Int], disabledWebhooks: Set<String> = [], stopped: Set<String> = []) -> [NewDelivery] {
        Array(deliveries(policy: policy, sequence: sequence, event: event, unsubscribed: unsubscribed,
                         emailCounts: emailCounts, disabledWebhooks: disabledWebhooks, stopped: stopped))
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
    let stopped: Set<String>
    private let counter = Counter()

    init(policy: Policy, sequence: Int, event: IncidentEvent, unsubscribed: Set<String>, emailCounts: [String: Int],
         disabledWebhooks: Set<String>, stopped: Set<String>) {
        self.policy = policy; self.sequence = sequence; self.event = event; self.unsubscribed = unsubscribed
        self.emailCounts = emailCounts; self.disabledWebhooks = disabledWebhooks; self.stopped = stopped
    }

    /// How many deliveries the last complete iteration made.
    public var made: Int { counter.value.load(ordering: .relaxed) }

    public func makeIterator() -> Iterator { Iterator(self) }

    public struct Iterator: IteratorProtocol {
        private enum Stage { case emails(Int), texts(Int), banner, webhooks(Int), posts(Int), done }
        private let plan: PlannedDeliveries
        private var stage: Stage
        private var seen = Set<String>()
        private var made = 0
        private let emailing: Bool
        private let cap: Int
        private let reserve: Int
        private let texting: Bool
        private let textCap: Int
        private let textReserve: Int

        init(_ plan: PlannedDeliveries) {
            self.plan = plan
            let allClear = plan.policy.recovery.allClear
            emailing = plan.policy.email != nil && (plan.event == .opened || allClear.contains(.email))
            cap = Swift.max(1, plan.policy.email?.maxPerCustomer ?? 1)
            reserve = allClear.contains(.email) ? 1 : 0
            texting = plan.policy.sms != nil && (plan.event == .opened || allClear.contains(.sms))
            textCap = Swift.max(1, plan.policy.sms?.maxPerCustomer ?? 1)
            textReserve = allClear.contains(.sms) ? 1 : 0
            stage = .emails(0)
        }

        /// Whether one more message of this event may go to a customer who has had `count` in this incident.
        private func allows(_ count: Int, cap: Int, reserve: Int) -> Bool {
            switch plan.event {
            case .opened: count == 0 || count + reserve < cap
            case .resolved: count > 0 && count < cap
            }
        }

        // Unique within the incident (the store makes it unique per incident): one event, one target, once.
        private func key(_ channel: ChannelKind, _ target: String) -> String { "\(plan.sequence)/\(channel.rawValue)/\(target)" }

        public mutating func next() -> NewDelivery? {
            while true {
                switch stage {
                case .emails(let i):
                    guard emailing, let recipients = plan.policy.email?.audience.recipients, i < recipients.count else {
                        stage = .texts(0); continue
                    }
                    stage = .emails(i + 1)
                    let r = recipients[i]
                    guard !r.email.isEmpty else { continue }
                    let address = Self.lowercased(r.email)
                    guard seen.insert(address).inserted, !plan.unsubscribed.contains(address) else { continue }
                    guard allows(plan.emailCounts[address] ?? 0, cap: cap, reserve: reserve) else { continue }
                    return yield(NewDelivery(event: plan.event, channel: .email, target: r.email, recipientName: r.name,
                                             locale: r.locale, idempotencyKey: key(.email, address)))
                case .texts(let i):
                    guard texting, let recipients = plan.policy.sms?.audience.recipients, i < recipients.count else {
                        stage = .banner; continue
                    }
                    stage = .texts(i + 1)
                    let r = recipients[i]
                    guard let phone = r.phone, !r.smsOptOut, !plan.stopped.contains(phone), seen.insert(phone).inserted else { continue }
                    guard allows(plan.emailCounts[phone] ?? 0, cap: textCap, reserve: textReserve) else { continue }
                    return yield(NewDelivery(event: plan.event, channel: .sms, target: phone, recipientName: r.name,
                                             locale: r.locale, idempotencyKey: key(.sms, phone)))
                case .banner:
                    stage = .webhooks(0)
                    // The banner always comes down on resolve, whatever the all-clear list says.
                    guard plan.policy.banner != nil else { continue }
                    let business = plan.policy.business.rawValue
                    return yield(NewDelivery(event: plan.event, channel: .banner, target: business, idempotencyKey: key(.banner, business)))
                case .webhooks(let i):
                    let hooks = plan.policy.webhooks
                    guard plan.event == .opened || plan.policy.recovery.allClear.contains(.webhook), i < hooks.count else {
                        stage = .posts(0); continue
                    }
                    stage = .webhooks(i + 1)
                    guard !plan.disabledWebhooks.contains(hooks[i].name) else { continue }
                    return yield(NewDelivery(event: plan.event, channel: .webhook, target: hooks[i].name,
                                             idempotencyKey: key(.webhook, hooks[i].name)))
                case .posts(let i):
                    // One public post per social account and event; the all-clear answers the outage post.
                    let posts = plan.policy.social
                    guard i < posts.count else { stage = .done; continue }
                    stage = .posts(i + 1)
                    let kind = posts[i].kind
                    guard plan.event == .opened || plan.policy.recovery.allClear.contains(kind) else { continue }
                    return yield(NewDelivery(event: plan.event, channel: kind, target: kind.rawValue, idempotencyKey: key(kind, kind.rawValue)))
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
