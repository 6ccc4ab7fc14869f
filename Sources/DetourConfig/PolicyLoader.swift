import Crypto
import DetourCore
import Foundation

/// What a policy may refer to in the daemon file. A nil set means "unknown" (the daemon file is broken): skip the check.
struct PolicyReferences {
    var platforms: Set<String>
    var smtpServers: Set<String>?
    var allowPrivateWebhookTargets: Bool
    /// Platforms the daemon file stops watching with `watch: false`, by id.
    var unwatched: [String: UnwatchedPlatform] = [:]
    /// The daemon file, for hints.
    var daemonFile = "detour.yaml"
}

/// Reads one policy file (one business).
struct PolicyLoader {
    let environment: [String: String]
    let diagnostics: Diagnostics
    let references: PolicyReferences

    static let defaultGrace = TimeSpan.minutes(3)
    static let defaultRecoveryGrace = TimeSpan.minutes(10)
    static let defaultCooldown = TimeSpan.hours(1)

    /// The policy, and the node of its `business` key (for duplicate-id reports).
    func load(_ path: String) -> (Policy, line: Int, column: Int)? {
        guard let source = SourceText.read(path, diagnostics: diagnostics),
              let doc = YAMLDocument(source: source, diagnostics: diagnostics),
              let root = doc.rootMapping() else { return nil }
        let dir = (path as NSString).deletingLastPathComponent
        let before = diagnostics.errors.count
        let secrets = SecretReader(environment: environment, baseDir: dir)

        let businessNode = root.required("business", hint: "business: rosies-bakery (lowercase letters, digits, '-')")
        var business: BusinessID?
        if let node = businessNode, let s = node.singleLine() {
            if Slug.isValid(s) { business = BusinessID(s) }
            else { node.error("business id '\(s.prefix(64))' must be lowercase letters, digits, '-' or '_', starting with a letter", hint: "for example: rosies-bakery") }
        }
        let displayName = root.required("name", hint: "name: Rosie's Bakery (shown to customers)")?.singleLine()

        var dependsOn: [PlatformID] = []
        if let node = root.required("depends_on", hint: "depends_on: [instagram, whatsapp]"), let items = node.sequenceOrOne() {
            for item in items {
                guard let s = item.string() else { continue }
                if references.platforms.contains(s) {
                    if dependsOn.contains(PlatformID(s)) { item.warning("'\(s)' is listed twice") } else { dependsOn.append(PlatformID(s)) }
                } else if let off = references.unwatched[s] {
                    item.error("platform '\(s)' is not watched: `watch: false` in \(off.file):\(off.line)",
                               hint: "to watch it, remove that line (or write watch: true); or take '\(s)' out of depends_on")
                } else if PlatformID.catalogue.contains(PlatformID(s)) {
                    item.error("platform '\(s)' is built in but not watched",
                               hint: "add `\(s): {}` under platforms: in \((references.daemonFile as NSString).lastPathComponent) to watch it")
                } else {
                    item.error("unknown platform '\(s)'", hint: unknownPlatformHint(s))
                }
            }
            if items.isEmpty { node.error("depends_on lists no platform", hint: "depends_on: [instagram]") }
        }
        let failWhen = root.optional("fail_when")?.oneOf(FailWhen.self) ?? .any
        let grace = root.optional("grace")?.duration() ?? Self.defaultGrace
        let recoveryGrace = root.optional("recovery_grace")?.duration() ?? Self.defaultRecoveryGrace
        let cooldown = root.optional("cooldown")?.duration() ?? Self.defaultCooldown

        var messages: Messages?
        if let m = root.required("message", hint: "message:\n      outage: \"Our Instagram is down. Order by phone: 0123 456 789\"")?.mapping() {
            let outage = m.required("outage", hint: "outage: what customers should do while the platform is down")?.string()
            let recovery = m.optional("recovery")?.string()
            m.finish()
            if let outage { messages = Messages(outage: outage, recovery: recovery) }
        }
        let contacts = root.optional("contacts").flatMap(links) ?? []
        var timeZone: String?
        if let v = root.optional("time_zone"), let s = v.singleLine() {
            if TimeZone(identifier: s) != nil, s.contains("/") || s == "UTC" { timeZone = s } else {
                v.error("unknown time zone '\(s.prefix(40))'", hint: "an IANA name such as Europe/London or America/New_York")
            }
        }

        var email: EmailChannel?
        var banner: BannerChannel?
        var webhooks: [WebhookChannel] = []
        var sms: SMSChannel?
        var social: [SocialChannel] = []
        if let m = root.required("channels", hint: "channels: with at least one of email, sms, banner, webhooks")?.mapping() {
            email = m.optional("email").flatMap { emailChannel($0, dir) }
            sms = m.optional("sms").flatMap { smsChannel($0, secrets, dir, timeZone: timeZone) }
            for kind in ChannelKind.social {
                if let node = m.optional(kind.rawValue), let channel = socialChannel(kind, node, secrets, dir, contacts: contacts) { social.append(channel) }
            }
            banner = m.optional("banner").flatMap { bannerChannel($0, dir) }
            if let v = m.optional("webhooks"), let items = v.sequence() {
                var names = Set<String>()
                for item in items {
                    guard let w = webhook(item, secrets, dir) else { continue }
                    if !names.insert(w.name).inserted { item.error("two webhooks are named '\(w.name)'", hint: "give each webhook its own name") }
                    webhooks.append(w)
                }
            }
            m.finish()
            if email == nil, sms == nil, banner == nil, webhooks.isEmpty, social.isEmpty, diagnostics.errors.count == before {
                m.node.error("no channels: customers would hear nothing", hint: "add email, sms, banner, webhooks or a social account (telegram, mastodon, bluesky, google_business)")
            }
        }

        var staffWebhook: String?
        if let v = root.optional("staff_webhook"), let s = v.singleLine() {
            if webhooks.contains(where: { $0.name == s }) { staffWebhook = s } else if diagnostics.errors.count == before {
                v.error("no webhook named '\(s.prefix(40))' under channels.webhooks",
                        hint: webhooks.isEmpty ? "add the staff's webhook (format: slack, teams, discord…) under channels.webhooks"
                            : "its webhooks: \(webhooks.map(\.name).joined(separator: ", "))")
            }
        }
        var recovery = RecoveryPlan(allClear: Set(ChannelKind.allCases))
        if let m = root.optional("on_recovery")?.mapping() {
            if let v = m.optional("all_clear"), let items = v.sequenceOrOne() {
                var set = Set<ChannelKind>()
                for item in items {
                    if let s = item.string(), s == "webhooks" { set.insert(.webhook) }
                    else if let k = item.oneOf(ChannelKind.self) { set.insert(k) }
                }
                recovery.allClear = set
            }
            m.finish()
        }
        root.finish()

        guard diagnostics.errors.count == before, let business, let displayName, let messages else { return nil }
        let hash = SHA256.hash(data: source.bytes).lowercaseHex
        var policy = Policy(business: business, displayName: displayName, dependsOn: dependsOn, failWhen: failWhen, grace: grace,
                            recoveryGrace: recoveryGrace, cooldown: cooldown, message: messages, contacts: contacts, email: email,
                            banner: banner, webhooks: webhooks, sms: sms, social: social, timeZone: timeZone, recovery: recovery, source: PolicySource(file: path, contentHash: hash))
        policy.staffWebhook = staffWebhook
        return (policy, businessNode?.line ?? 0, businessNode?.column ?? 0)
    }

    /// Names the platforms a policy may depend on, or says that there are none.
    private func unknownPlatformHint(_ name: String) -> String {
        let custom = "custom platforms are defined under platforms: in \((references.daemonFile as NSString).lastPathComponent)"
        if references.platforms.isEmpty {
            let off = references.unwatched.keys.sorted()
            return "no platform is watched in \(references.daemonFile)"
                + (off.isEmpty ? "" : " (watch: false on \(off.joined(separator: ", ")))") + "; \(custom)"
        }
        return Suggest.hint(for: name, in: Array(references.platforms), what: "platforms") + "; \(custom)"
    }

    private func links(_ node: YNode) -> [ContactLink]? {
        guard let items = node.sequence() else { return nil }
        var out: [ContactLink] = []
        for item in items {
            guard let m = item.mapping() else { continue }
            let label = m.required("label", hint: "label: Call us")?.singleLine()
            var url: String?
            if let v = m.required("url", hint: "url: tel:+441234567890, mailto:…, sms:… or https://…"), let s = v.singleLine() {
                let scheme = s.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
                if ["http", "https", "tel", "mailto", "sms"].contains(scheme), s.count > scheme.count + 1 { url = s }
                else { v.error("\"\(s.prefix(60))\" is not a link customers can use", hint: "use https://, tel:, mailto: or sms:") }
            }
            m.finish()
            if let label, let url { out.append(ContactLink(label: label, url: url)) }
        }
        return out
    }

    func templates(_ m: MappingReader, _ dir: String) -> TemplateRefs {
        var refs = TemplateRefs()
        guard let tm = m.optional("templates")?.mapping() else { return refs }
        func file(_ key: String) -> String? {
            guard let v = tm.optional(key), let s = v.singleLine() else { return nil }
            let path = resolve(s, relativeTo: dir)
            if let problem = FileKind.notRegular(path) {
                v.error("template \(path) \(problem)", hint: "point it at a template file")
            } else if !FileManager.default.isReadableFile(atPath: path) {
                v.error("cannot read template \(path)", hint: "check the path; it is relative to the policy file")
            }
            return path
        }
        refs.opened = file("opened")
        refs.resolved = file("resolved")
        tm.finish()
        return refs
    }

    private func emailChannel(_ node: YNode, _ dir: String) -> EmailChannel? {
        guard let m = node.mapping() else { return nil }
        var smtp: String?
        if let v = m.required("smtp", hint: "smtp: the name of a server under smtp: in detour.yaml"), let s = v.singleLine() {
            if let known = references.smtpServers, !known.contains(s) {
                v.error("unknown SMTP server '\(s)'", hint: known.isEmpty ? "define it under smtp: in detour.yaml" : Suggest.hint(for: s, in: Array(known), what: "SMTP servers"))
            } else { smtp = s }
        }
        let from = m.required("from", hint: "from: \"Rosie's Bakery <hello@rosies.example>\"").flatMap(mailbox)
        let replyTo = m.optional("reply_to").flatMap(mailbox)
        var audience: Audience?
        if let v = m.required("audience", hint: "audience: customers.csv (columns email,name[,locale])"), let s = v.singleLine() {
            audience = AudienceLoader.load(resolve(s, relativeTo: dir), referencedBy: v, diagnostics: diagnostics)
            if let a = audience, !a.recipients.isEmpty, !a.recipients.contains(where: { !$0.email.isEmpty }) {
                v.error("audience \(s) has no email addresses", hint: "add an email column, or send texts with channels.sms")
            }
        }
        let maxPer = m.optional("max_per_customer")?.int(in: 1...20) ?? 2
        let refs = templates(m, dir)
        m.finish()
        guard let smtp, let from, let audience else { return nil }
        return EmailChannel(smtp: smtp, from: from, replyTo: replyTo, audience: audience, templates: refs, maxPerCustomer: maxPer)
    }

    private func bannerChannel(_ node: YNode, _ dir: String) -> BannerChannel? {
        guard let m = node.mapping() else { return nil }
        let publish = m.required("publish_dir", hint: "publish_dir: /var/www/example/detour (where your site serves banner.js from)")?.singleLine()
        let message = m.optional("message")?.string()
        let linkList = m.optional("links").flatMap(links)
        let refs = templates(m, dir)
        m.finish()
        guard let publish else { return nil }
        return BannerChannel(publishDir: resolve(publish, relativeTo: dir), message: message, links: linkList, templates: refs)
    }

    private func webhook(_ node: YNode, _ secrets: SecretReader, _ dir: String) -> WebhookChannel? {
        guard let m = node.mapping() else { return nil }
        var name: String?
        if let v = m.required("name", hint: "name: staff-slack"), let s = v.singleLine() {
            if Slug.isValid(s) { name = s } else { v.error("webhook name '\(s.prefix(64))' must be lowercase letters, digits, '-' or '_'") }
        }
        let format = m.required("format", hint: "format: standard, slack, teams, discord, json or custom")?.oneOf(WebhookChannel.Format.self)
        let urlNode = m.optional("url") ?? m.optional("url_file")
        var url = secrets.read(m, "url")
        if urlNode == nil { m.node.error("webhook needs url or url_file", hint: "url_file keeps a Slack/Teams/Discord URL (which holds a token) out of this file") }
        if let u = url {
            let target = WebhookTarget.check(u.reveal(), allowPrivate: references.allowPrivateWebhookTargets)
            if let problem = target { urlNode?.error(problem.message, hint: problem.hint); url = nil }
        }
        let secret = secrets.read(m, "secret")
        if let secret, format == .standard || format == .custom {
            let raw = secret.reveal()
            let body = raw.hasPrefix("whsec_") ? String(raw.dropFirst(6)) : raw
            if Data(base64Encoded: body) == nil || body.count < 24 {
                (m.optional("secret") ?? m.optional("secret_file"))?.error("a standard webhook secret is whsec_ followed by base64 of at least 16 random bytes",
                                                                             hint: "generate one: echo whsec_$(head -c 24 /dev/urandom | base64)")
            }
        }
        if format == .standard, secret == nil, m.optional("secret") == nil, m.optional("secret_file") == nil {
            m.node.error("the standard format signs every delivery and needs a secret", hint: "secret_file: /etc/detour/secrets/NAME.whsec (whsec_ + base64)")
        }
        let refs = templates(m, dir)
        let custom = customRequest(m, format: format, secrets: secrets, dir: dir)
        m.finish()
        guard let name, let format, let url else { return nil }
        if format == .custom, custom == nil { return nil }
        return WebhookChannel(name: name, format: format, url: url, secret: secret, templates: refs, custom: custom)
    }

    /// `Name <addr@example.com>`, `"Name" <addr>` or a bare address.
    private func mailbox(_ node: YNode) -> Mailbox? {
        guard let s = node.singleLine()?.trimmingCharacters(in: .whitespaces) else { return nil }
        var name: String?
        var address = s
        if s.hasSuffix(">"), let lt = s.lastIndex(of: "<") {
            address = String(s[s.index(after: lt)..<s.index(before: s.endIndex)])
            var n = s[..<lt].trimmingCharacters(in: .whitespaces)
            if n.hasPrefix("\""), n.hasSuffix("\""), n.count >= 2 { n = String(n.dropFirst().dropLast()) }
            name = n.isEmpty ? nil : n
        }
        guard EmailAddress.isValid(address) else {
            node.error("\"\(s.prefix(80))\" is not an email address", hint: "write it as \"Rosie's Bakery <hello@rosies.example>\" or hello@rosies.example")
            return nil
        }
        return Mailbox(name: name, address: address)
    }
}
