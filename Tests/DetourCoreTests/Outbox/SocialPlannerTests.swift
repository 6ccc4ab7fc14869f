import DetourCore
import Testing

/// One public post per social account and event; the all-clear only where `all_clear` says.
@Suite struct SocialPlannerTests {
    private let planner = DeliveryPlanner()

    private func policy(allClear: Set<ChannelKind>) -> Policy {
        let secret = Secret("t", origin: "test")
        let social = [
            SocialChannel(account: .telegram(.init(baseURL: "https://api.telegram.org", botToken: secret, chatID: "@salon")), templates: TemplateRefs()),
            SocialChannel(account: .mastodon(.init(instance: "https://m.example", accessToken: secret, visibility: "public", language: nil)),
                          templates: TemplateRefs()),
        ]
        return Policy(business: BusinessID("salon"), displayName: "Salon", dependsOn: [PlatformID("whatsapp")], failWhen: .any, grace: .minutes(1),
                      recoveryGrace: .minutes(1), cooldown: .minutes(10), message: Messages(outage: "down", recovery: "back"), contacts: [],
                      email: nil, banner: nil, webhooks: [], social: social, recovery: RecoveryPlan(allClear: allClear),
                      source: PolicySource(file: "salon.yaml", contentHash: "0"))
    }

    @Test func onePostPerAccountAndTheAllClearWhereAsked() {
        let opened = planner.plan(policy: policy(allClear: [.telegram]), sequence: 1, event: .opened, unsubscribed: [], emailCounts: [:])
        #expect(opened.map(\.channel) == [.telegram, .mastodon])
        #expect(opened.map(\.target) == ["telegram", "mastodon"] && opened.map(\.idempotencyKey) == ["1/telegram/telegram", "1/mastodon/mastodon"])
        let resolved = planner.plan(policy: policy(allClear: [.telegram]), sequence: 2, event: .resolved, unsubscribed: [], emailCounts: [:])
        #expect(resolved.map(\.channel) == [.telegram], "mastodon is not in all_clear")
    }
}
