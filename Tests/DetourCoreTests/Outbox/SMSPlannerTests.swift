import DetourCore
import Testing

/// The planner's rules for texts: per number, with the SMS channel's own cap, opt-outs and STOPs.
@Suite struct SMSPlannerTests {
    private let planner = DeliveryPlanner()
    private let people = [
        Recipient(email: "ana@example.com", name: "Ana", phone: "+447700900123"),
        Recipient(email: "", name: "Ben", phone: "+447700900456"),
        Recipient(email: "chloe@example.com", name: "Chloé"),
        Recipient(email: "", name: "Dev", phone: "+447700900789", smsOptOut: true),
        Recipient(email: "", name: "Ben again", phone: "+447700900456"),
    ]

    private func policy(cap: Int = 2, allClear: Set<ChannelKind> = [.email, .sms]) -> Policy {
        let audience = Audience(file: "people.csv", recipients: people)
        let email = EmailChannel(smtp: "relay", from: Mailbox(name: nil, address: "shop@example.com"), replyTo: nil, audience: audience,
                                 templates: TemplateRefs(), maxPerCustomer: 2)
        let sms = SMSChannel(provider: .twilio(.init(baseURL: "https://api.twilio.com", accountSID: "AC1", authToken: Secret("t", origin: "test"),
                                                     from: "+447700900100", messagingServiceSID: nil)),
                             audience: audience, templates: TemplateRefs(), maxPerCustomer: cap, stopFile: nil)
        return Policy(business: BusinessID("salon"), displayName: "Salon", dependsOn: [PlatformID("whatsapp")], failWhen: .any, grace: .minutes(1),
                      recoveryGrace: .minutes(1), cooldown: .minutes(10), message: Messages(outage: "down", recovery: "back"), contacts: [],
                      email: email, banner: nil, webhooks: [], sms: sms, recovery: RecoveryPlan(allClear: allClear),
                      source: PolicySource(file: "salon.yaml", contentHash: "0"))
    }

    private func texts(_ planned: [NewDelivery]) -> [String] { planned.filter { $0.channel == .sms }.map(\.target) }

    @Test func everyNumberOnceExceptOptOutsAndStops() {
        let planned = planner.plan(policy: policy(), sequence: 1, event: .opened, unsubscribed: [], emailCounts: [:])
        #expect(texts(planned) == ["+447700900123", "+447700900456"], "Dev opted out; Ben's number is texted once")
        #expect(planned.filter { $0.channel == .email }.map(\.target) == ["ana@example.com", "chloe@example.com"], "rows without email get no email")
        #expect(planned.first { $0.channel == .sms }?.recipientName == "Ana")
        let stopped = planner.plan(policy: policy(), sequence: 1, event: .opened, unsubscribed: [], emailCounts: [:], stopped: ["+447700900123"])
        #expect(texts(stopped) == ["+447700900456"])
    }

    @Test func theAllClearGoesOnlyToNumbersToldAndTheCapKeepsRoomForIt() {
        let resolved = planner.plan(policy: policy(), sequence: 2, event: .resolved, unsubscribed: [], emailCounts: ["+447700900123": 1])
        #expect(texts(resolved) == ["+447700900123"])
        // A reopen with one text already sent: a cap of 2 keeps the second for the all-clear.
        let reopened = planner.plan(policy: policy(), sequence: 3, event: .opened, unsubscribed: [], emailCounts: ["+447700900123": 1])
        #expect(texts(reopened) == ["+447700900456"])
        let noAllClear = planner.plan(policy: policy(allClear: [.email]), sequence: 2, event: .resolved, unsubscribed: [],
                                      emailCounts: ["+447700900123": 1])
        #expect(texts(noAllClear).isEmpty)
    }
}
