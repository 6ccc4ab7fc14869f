import DetourCore
import Foundation

/// Checks that the template files a policy names parse and render, so a broken template is found by
/// `detour policy check` and by a reload, not in the middle of an outage.
public enum TemplateCheck {
    /// One problem: where it is in the policy, and what is wrong.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var keyPath: String
        public var message: String
        public var description: String { "\(keyPath): \(message)" }
    }

    /// Every problem with the policy's own template files; empty when they are all usable.
    /// Files that cannot be read are left to the policy loader, which already reports them with their line.
    /// - Parameter platformNames: the platforms' display names (`WhatsApp`), as messages show them; ids by default.
    public static func problems(_ policy: Policy, platformNames: [PlatformID: String] = [:]) -> [Problem] {
        var out: [Problem] = []
        var sample = sampleContext(policy)
        sample.platforms = policy.dependsOn.map { platformNames[$0] ?? $0.rawValue }
        if let email = policy.email {
            let readable = TemplateRefs(opened: email.templates.opened.flatMap(readable), resolved: email.templates.resolved.flatMap(readable))
            out += EmailTemplates.validate(refs: readable).map { Problem(keyPath: "channels.email.templates", message: $0) }
            for event in [MessageEvent.opened, .resolved] {
                if let t = try? EmailTemplates.forEvent(event, refs: readable) {
                    var c = sample; c.event = event
                    let r = t.render(c)
                    if r.subject.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        out.append(Problem(keyPath: "channels.email.templates.\(event.rawValue)", message: "renders an empty subject"))
                    }
                }
            }
        }
        if let banner = policy.banner {
            for (event, path) in [("opened", banner.templates.opened), ("resolved", banner.templates.resolved)] {
                guard let path = path.flatMap(readable) else { continue }
                do { _ = try TemplateRenderer.file(path) } catch {
                    out.append(Problem(keyPath: "channels.banner.templates.\(event)", message: "\(error)"))
                }
            }
        }
        if let sms = policy.sms {
            let refs = TemplateRefs(opened: sms.templates.opened.flatMap(readable), resolved: sms.templates.resolved.flatMap(readable))
            do {
                let texts = try SMSText(refs)
                for event in [MessageEvent.opened, .resolved] {
                    var c = sample
                    c.event = event
                    if texts.render(c).isEmpty {
                        out.append(Problem(keyPath: "channels.sms.templates.\(event.rawValue)", message: "renders an empty text"))
                    }
                }
            } catch {
                out.append(Problem(keyPath: "channels.sms.templates", message: "\(error)"))
            }
        }
        if let sms = policy.sms, case .http(let gateway) = sms.provider, let path = gateway.request.body, readable(path) != nil {
            out += customBodyProblems(gateway.request, webhook: "sms gateway", keyPath: "channels.sms.body", sample: sample)
        }
        for social in policy.social {
            let key = "channels.\(social.kind.rawValue)"
            let refs = TemplateRefs(opened: social.templates.opened.flatMap(readable), resolved: social.templates.resolved.flatMap(readable))
            do {
                let texts = try SocialText(refs)
                for event in [MessageEvent.opened, .resolved] {
                    var c = sample
                    c.event = event
                    if event == .resolved { c.message = policy.message.recovery ?? "" }
                    let text = texts.render(c)
                    let length = SocialText.length(text, for: social.kind)
                    if text.isEmpty {
                        out.append(Problem(keyPath: "\(key).templates.\(event.rawValue)", message: "renders an empty post"))
                    } else if length > social.account.limit {
                        let unit = social.kind == .bluesky ? "graphemes" : social.kind == .mastodon ? "characters (each link counts 23)" : "characters"
                        out.append(Problem(keyPath: "\(key).templates.\(event.rawValue)",
                                           message: "the \(event == .opened ? "outage" : "all-clear") post is \(length) \(unit); \(social.kind.rawValue) takes \(social.account.limit) "
                                               + "(shorten message.\(event == .opened ? "outage" : "recovery") or the contacts, or give this channel a shorter template)"))
                    }
                }
            } catch {
                out.append(Problem(keyPath: "\(key).templates", message: "\(error)"))
            }
        }
        for (i, webhook) in policy.webhooks.enumerated() {
            let refs = TemplateRefs(opened: webhook.templates.opened.flatMap(readable), resolved: webhook.templates.resolved.flatMap(readable))
            do {
                let t = try WebhookTemplates(refs)
                for event in [MessageEvent.opened, .resolved] {
                    var c = sample; c.event = event
                    _ = t.text(for: c)
                }
            } catch {
                out.append(Problem(keyPath: "channels.webhooks[\(i)].templates", message: "webhook \(webhook.name): \(error)"))
            }
            if let custom = webhook.custom, let path = custom.body, readable(path) != nil {
                out += customBodyProblems(custom, webhook: webhook.name, keyPath: "channels.webhooks[\(i)].body", sample: sample)
            }
        }
        return out
    }

    /// A custom body must parse, and render (for an outage and an all-clear, with a message full of
    /// quotes and line breaks) into what its content type promises: valid JSON for JSON.
    static func customBodyProblems(_ custom: WebhookChannel.CustomRequest, webhook: String, keyPath: String,
                                   sample: MessageContext) -> [Problem] {
        let body: CustomBody
        do { body = try CustomBody(custom) } catch { return [Problem(keyPath: keyPath, message: "webhook \(webhook): \(error)")] }
        var out: [Problem] = []
        for event in [MessageEvent.opened, .resolved, .test] {
            var c = sample
            c.event = event
            // `detour send-test` renders it with the incident "test": a {{value}} outside quotes breaks there.
            if event == .test { c.incidentID = "test" }
            c.message = "Our \"DMs\" are down\nCall 0161 496 0000 \\ or email us & we reply"
            let message = OutgoingMessage(deliveryID: "detour-check-1-1-1", recipient: webhook, context: c)
            guard let data = try? body.render(message, text: WebhookText(headline: "Check", body: c.message), channel: webhook) else { continue }
            if CustomBody.escaping(for: custom.contentType) == "DETOUR_JSON", (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) == nil {
                out.append(Problem(keyPath: keyPath, message: "webhook \(webhook): the \(event.rawValue) body is not valid JSON: "
                                   + "\(String(decoding: data.prefix(200), as: UTF8.self)) (put each {{value}} inside quotes: \"{{message}}\")"))
                break
            }
        }
        return out
    }

    private static func readable(_ path: String) -> String? {
        FileManager.default.isReadableFile(atPath: path) ? path : nil
    }

    private static func sampleContext(_ policy: Policy) -> MessageContext {
        MessageContext(event: .opened, businessID: policy.business.rawValue, businessName: policy.displayName, incidentID: "1",
                       platforms: policy.dependsOn.map(\.rawValue), since: Date(timeIntervalSince1970: 1_700_000_000),
                       resolvedAt: Date(timeIntervalSince1970: 1_700_003_600), message: policy.message.outage, contacts: policy.contacts,
                       recipientName: "Sam Example", recipientEmail: "sam@example.com", locale: "en",
                       unsubscribeURL: "https://detour.example/unsubscribe")
    }
}
