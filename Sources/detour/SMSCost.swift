import DetourChannels
import DetourCore
import Foundation

/// What one incident's texts cost a business, for `detour policy check`: the outage and all-clear
/// texts' encoding and segments (for a sample customer), and the segments one incident would take
/// for the whole audience (each customer's own text: a name can make it longer, or UCS-2).
struct SMSCost: Encodable {
    struct Text: Encodable {
        var encoding: String
        var characters: Int
        var segments: Int
        var text: String
    }

    var recipients: Int
    var outage: Text
    var allClear: Text?
    var segmentsPerIncident: Int

    init?(_ policy: Policy, names: [PlatformID: String] = [:]) {
        guard let sms = policy.sms, let texts = try? SMSText(sms.templates) else { return nil }
        let people = sms.audience.recipients.filter { $0.phone != nil && !$0.smsOptOut }
        let allClearToo = policy.recovery.allClear.contains(.sms)
        func context(_ event: MessageEvent, _ name: String?) -> MessageContext {
            MessageContext(event: event, businessID: policy.business.rawValue, businessName: policy.displayName, incidentID: "1",
                           platforms: policy.dependsOn.map { names[$0] ?? $0.rawValue }, since: Date(),
                           resolvedAt: event == .resolved ? Date() : nil,
                           message: event == .opened ? policy.message.outage : (policy.message.recovery ?? ""),
                           contacts: policy.contacts, recipientName: name)
        }
        func text(_ event: MessageEvent, _ name: String?) -> Text {
            let body = texts.render(context(event, name))
            let s = SMSSegments(body)
            return Text(encoding: s.encoding.rawValue, characters: body.count, segments: s.segments, text: body)
        }
        let sample = people.first?.name
        recipients = people.count
        outage = text(.opened, sample)
        allClear = allClearToo ? text(.resolved, sample) : nil
        var total = 0
        for person in people {
            total += SMSSegments(texts.render(context(.opened, person.name))).segments
            if allClearToo { total += SMSSegments(texts.render(context(.resolved, person.name))).segments }
        }
        segmentsPerIncident = total
    }

    /// `sms rosies-bakery: outage 96 characters, GSM-7, 1 segment; all-clear …; one incident: 680 segments for 340 numbers`
    func line(_ business: String) -> String {
        func describe(_ t: Text) -> String { "\(t.characters) characters, \(t.encoding), \(t.segments) segment\(t.segments == 1 ? "" : "s")" }
        return "sms \(business): outage text \(describe(outage))" + (allClear.map { "; all-clear \(describe($0))" } ?? "")
            + "; one incident costs up to \(segmentsPerIncident) segments for \(recipients) numbers"
    }
}

/// How long a business's public posts are, as each platform counts, for `detour policy check`.
struct PostLength: Encodable {
    var channel: String
    var limit: Int
    var outage: Int
    @KeptNull var allClear: Int?

    static func all(_ policy: Policy, names: [PlatformID: String] = [:]) -> [PostLength] {
        policy.social.compactMap { social in
            guard let texts = try? SocialText(social.templates) else { return nil }
            func length(_ event: MessageEvent) -> Int {
                let c = MessageContext(event: event, businessID: policy.business.rawValue, businessName: policy.displayName, incidentID: "1",
                                       platforms: policy.dependsOn.map { names[$0] ?? $0.rawValue }, since: Date(),
                                       resolvedAt: event == .resolved ? Date() : nil,
                                       message: event == .opened ? policy.message.outage : (policy.message.recovery ?? ""), contacts: policy.contacts)
                return SocialText.length(texts.render(c), for: social.kind)
            }
            return PostLength(channel: social.kind.rawValue, limit: social.account.limit, outage: length(.opened),
                              allClear: policy.recovery.allClear.contains(social.kind) ? length(.resolved) : nil)
        }
    }

    func line(_ business: String) -> String {
        "\(channel) \(business): outage post \(outage) of \(limit)"
            + (allClear.map { "; all-clear \(channel == "google_business" ? "post" : "reply") \($0)" } ?? "; no all-clear")
    }
}
