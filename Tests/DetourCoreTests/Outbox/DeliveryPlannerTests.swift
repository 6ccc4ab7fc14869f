import DetourCore
import Testing

/// The rules that keep customers from being spammed, as `DeliveryPlanner` applies them.
@Suite struct DeliveryPlannerTests {
    private let planner = DeliveryPlanner()

    private func policy(audience: [String] = ["ana@example.com", "ben@example.com"], cap: Int = 2,
                        allClear: Set<ChannelKind> = [.email, .webhook], banner: Bool = true,
                        webhooks: [String] = ["crm"]) -> Policy {
        let email = EmailChannel(smtp: "relay", from: Mailbox(name: nil, address: "shop@example.com"), replyTo: nil,
                                 audience: Audience(file: "people.csv", recipients: audience.map { Recipient(email: $0, name: "N") }),
                                 templates: TemplateRefs(), maxPerCustomer: cap)
        return Policy(business: BusinessID("shop"), displayName: "Shop", dependsOn: [PlatformID("instagram")], failWhen: .any, grace: .minutes(3),
                      recoveryGrace: .minutes(5), cooldown: .minutes(10), message: Messages(outage: "down", recovery: "back"),
                      contacts: [], email: email,
                      banner: banner ? BannerChannel(publishDir: "/tmp/x", message: nil, links: nil, templates: TemplateRefs()) : nil,
                      webhooks: webhooks.map { WebhookChannel(name: $0, format: .json, url: Secret("https://hooks.example/x", origin: "test"),
                                                               secret: nil, templates: TemplateRefs()) },
                      recovery: RecoveryPlan(allClear: allClear), source: PolicySource(file: "shop.yaml", contentHash: "0"))
    }

    private func emails(_ planned: [NewDelivery]) -> [String] { planned.filter { $0.channel == .email }.map(\.target) }

    @Test func openingEmailsEveryCustomerAndQueuesTheBannerAndEveryWebhook() {
        let planned = planner.plan(policy: policy(), sequence: 1, event: .opened, unsubscribed: [], emailCounts: [:])
        #expect(emails(planned) == ["ana@example.com", "ben@example.com"])
        #expect(planned.filter { $0.channel == .banner }.map(\.target) == ["shop"])
        #expect(planned.filter { $0.channel == .webhook }.map(\.target) == ["crm"])
    }

    @Test func anAddressListedTwiceInAnyCaseIsEmailedOnce() {
        let planned = planner.plan(policy: policy(audience: ["ana@example.com", "ANA@Example.com"]), sequence: 1, event: .opened,
                                   unsubscribed: [], emailCounts: [:])
        #expect(emails(planned) == ["ana@example.com"])
    }

    @Test func unsubscribedCustomersGetNothing() {
        let planned = planner.plan(policy: policy(), sequence: 1, event: .opened, unsubscribed: ["ben@example.com"], emailCounts: [:])
        #expect(emails(planned) == ["ana@example.com"])
    }

    @Test func theFirstOutageEmailAlwaysGoesEvenWithACapOfOne() {
        let planned = planner.plan(policy: policy(cap: 1), sequence: 1, event: .opened, unsubscribed: [], emailCounts: [:])
        #expect(emails(planned).count == 2)
    }

    @Test func aReopenedIncidentEmailsACustomerAgainOnlyWhileTheAllClearStillFitsUnderTheCap() {
        // Told once already; cap 2 keeps the second email for the all-clear.
        let atCap = planner.plan(policy: policy(cap: 2), sequence: 3, event: .opened, unsubscribed: [],
                                 emailCounts: ["ana@example.com": 1])
        #expect(emails(atCap) == ["ben@example.com"])
        // With a cap of 3 there is room for a second outage email and the all-clear.
        let roomy = planner.plan(policy: policy(cap: 3), sequence: 3, event: .opened, unsubscribed: [],
                                 emailCounts: ["ana@example.com": 1])
        #expect(emails(roomy) == ["ana@example.com", "ben@example.com"])
    }

    @Test func withoutAnEmailedAllClearNothingIsReservedForIt() {
        let planned = planner.plan(policy: policy(cap: 2, allClear: [.webhook]), sequence: 3, event: .opened, unsubscribed: [],
                                   emailCounts: ["ana@example.com": 1])
        #expect(emails(planned) == ["ana@example.com", "ben@example.com"])
    }

    @Test func theAllClearGoesOnlyToCustomersToldOfTheOutage() {
        let planned = planner.plan(policy: policy(), sequence: 2, event: .resolved, unsubscribed: [],
                                   emailCounts: ["ana@example.com": 1])
        #expect(emails(planned) == ["ana@example.com"])
    }

    @Test func theAllClearStaysWithinTheCap() {
        let planned = planner.plan(policy: policy(cap: 2), sequence: 4, event: .resolved, unsubscribed: [],
                                   emailCounts: ["ana@example.com": 2, "ben@example.com": 1])
        #expect(emails(planned) == ["ben@example.com"])
    }

    @Test func noAllClearEmailWhenThePolicyDoesNotAskForOne() {
        let planned = planner.plan(policy: policy(allClear: []), sequence: 2, event: .resolved, unsubscribed: [],
                                   emailCounts: ["ana@example.com": 1])
        #expect(emails(planned).isEmpty)
        #expect(planned.filter { $0.channel == .webhook }.isEmpty)
    }

    @Test func theBannerComesDownOnResolveWhateverTheAllClearListSays() {
        let planned = planner.plan(policy: policy(allClear: []), sequence: 2, event: .resolved, unsubscribed: [], emailCounts: [:])
        #expect(planned.map(\.channel) == [.banner])
    }

    @Test func aWebhookGoneWithA410GetsNothing() {
        let planned = planner.plan(policy: policy(webhooks: ["crm", "slack"]), sequence: 1, event: .opened, unsubscribed: [],
                                   emailCounts: [:], disabledWebhooks: ["crm"])
        #expect(planned.filter { $0.channel == .webhook }.map(\.target) == ["slack"])
    }

    @Test func eachDeliveryIsKeyedByItsEventChannelAndTarget() {
        let planned = planner.plan(policy: policy(audience: ["Ana@Example.com"]), sequence: 3, event: .opened, unsubscribed: [],
                                   emailCounts: [:])
        #expect(Set(planned.map(\.idempotencyKey)) == ["3/email/ana@example.com", "3/banner/shop", "3/webhook/crm"])
        #expect(planned.allSatisfy { $0.event == .opened })
    }
}
