import DetourCore
import Foundation

/// Writes an effective policy in the language of the files it came from: snake_case keys,
/// durations like `3m`, shares like `10%`, paths as the policy file would write them.
///
/// The policy itself is YAML that `detour policy check` accepts (once inline secrets, shown
/// redacted, are put back); what it uses from the daemon file follows as comments written in
/// `detour.yaml`'s own keys.
enum PolicyYAML {
    static func render(_ policy: Policy, platforms: [PlatformSpec], smtp: SMTPServer?, daemonFile: String) -> String {
        var w = Writer()
        let dir = (policy.source.file as NSString).deletingLastPathComponent
        w.comment("\(policy.business): the effective policy, defaults applied, secrets redacted.")
        w.comment("Read from \(policy.source.file) (sha256 \(policy.source.contentHash.prefix(12))).")
        w.line("business: \(scalar(policy.business.rawValue))")
        w.line("name: \(scalar(policy.displayName))")
        w.line("depends_on: [\(policy.dependsOn.map(\.rawValue).joined(separator: ", "))]")
        w.line("fail_when: \(policy.failWhen.rawValue)")
        w.line("grace: \(policy.grace)")
        w.line("recovery_grace: \(policy.recoveryGrace)")
        w.line("cooldown: \(policy.cooldown)")
        if let zone = policy.timeZone { w.line("time_zone: \(scalar(zone))") }
        if let staff = policy.staffWebhook { w.line("staff_webhook: \(scalar(staff))") }
        w.blank()
        w.line("message:")
        w.line("  outage: \(scalar(policy.message.outage))")
        if let recovery = policy.message.recovery { w.line("  recovery: \(scalar(recovery))") }
        if !policy.contacts.isEmpty {
            w.blank()
            w.line("contacts:")
            links(policy.contacts, indent: "  ", into: &w)
        }
        w.blank()
        w.line("channels:")
        if let email = policy.email {
            w.line("  email:")
            w.line("    smtp: \(scalar(email.smtp))")
            w.line("    from: \(scalar(email.from.description))")
            if let replyTo = email.replyTo { w.line("    reply_to: \(scalar(replyTo.description))") }
            w.line("    audience: \(scalar(path(email.audience.file, from: dir)))"
                   + "  # \(email.audience.recipients.count) recipient\(email.audience.recipients.count == 1 ? "" : "s")")
            w.line("    max_per_customer: \(email.maxPerCustomer)")
            templates(email.templates, dir: dir, indent: "    ", into: &w)
        }
        if let sms = policy.sms {
            w.line("  sms:")
            switch sms.provider {
            case .twilio(let t):
                w.line("    provider: twilio")
                w.line("    account_sid: \(scalar(t.accountSID))")
                secret("auth_token", t.authToken, indent: "    ", into: &w)
                if let from = t.from { w.line("    from: \(scalar(from))") }
                if let service = t.messagingServiceSID { w.line("    messaging_service_sid: \(scalar(service))") }
                w.line("    base_url: \(scalar(t.baseURL))")
            case .vonage(let v):
                w.line("    provider: vonage")
                w.line("    api_key: \(scalar(v.apiKey))")
                secret("api_secret", v.apiSecret, indent: "    ", into: &w)
                w.line("    from: \(scalar(v.from))")
                w.line("    base_url: \(scalar(v.baseURL))")
            case .http(let h):
                w.line("    provider: http")
                secret("url", h.url, indent: "    ", into: &w)
                w.line("    method: \(h.request.method)")
                for header in h.request.headers { secret("headers.\(header.name)", header.value, indent: "    ", into: &w) }
                if let body = h.request.body { w.line("    body: \(scalar(path(body, from: dir)))") }
                w.line("    content_type: \(scalar(h.request.contentType))")
            }
            if let rate = sms.rate { w.line("    rate: \(rate)") }
            if let quiet = sms.quietHours { w.line("    quiet_hours: \(scalar(quiet.span))  # \(quiet.timeZone)") }
            let textable = sms.audience.recipients.filter { $0.phone != nil && !$0.smsOptOut }.count
            w.line("    audience: \(scalar(path(sms.audience.file, from: dir)))  # \(textable) number\(textable == 1 ? "" : "s") to text")
            w.line("    max_per_customer: \(sms.maxPerCustomer)")
            if let stop = sms.stopFile { w.line("    stop_file: \(scalar(path(stop, from: dir)))") }
            templates(sms.templates, dir: dir, indent: "    ", into: &w)
        }
        for social in policy.social {
            w.line("  \(social.kind.rawValue):")
            switch social.account {
            case .telegram(let t):
                secret("bot_token", t.botToken, indent: "    ", into: &w)
                w.line("    chat_id: \(scalar(t.chatID))")
                w.line("    base_url: \(scalar(t.baseURL))")
            case .mastodon(let m):
                w.line("    instance: \(scalar(m.instance))")
                secret("access_token", m.accessToken, indent: "    ", into: &w)
                w.line("    visibility: \(m.visibility)")
                if let l = m.language { w.line("    language: \(scalar(l))") }
            case .bluesky(let b):
                w.line("    handle: \(scalar(b.handle))")
                secret("app_password", b.appPassword, indent: "    ", into: &w)
                w.line("    service: \(scalar(b.service))")
                if let l = b.language { w.line("    language: \(scalar(l))") }
            case .googleBusiness(let g):
                w.line("    account_id: \(scalar(g.accountID))")
                w.line("    location_id: \(scalar(g.locationID))")
                w.line("    client_id: \(scalar(g.clientID))")
                secret("client_secret", g.clientSecret, indent: "    ", into: &w)
                secret("refresh_token", g.refreshToken, indent: "    ", into: &w)
                w.line("    language: \(scalar(g.language))")
                if let a = g.actionType {
                    w.line("    call_to_action:")
                    w.line("      action_type: \(a)")
                    if let u = g.actionURL { w.line("      url: \(scalar(u))") }
                }
                w.line("    token_url: \(scalar(g.tokenURL))")
                w.line("    base_url: \(scalar(g.baseURL))")
            }
            templates(social.templates, dir: dir, indent: "    ", into: &w)
        }
        if let banner = policy.banner {
            w.line("  banner:")
            w.line("    publish_dir: \(scalar(path(banner.publishDir, from: dir)))")
            if let message = banner.message { w.line("    message: \(scalar(message))") }
            if let list = banner.links {
                w.line("    links:\(list.isEmpty ? " []" : "")")
                links(list, indent: "      ", into: &w)
            }
            templates(banner.templates, dir: dir, indent: "    ", into: &w)
        }
        if !policy.webhooks.isEmpty {
            w.line("  webhooks:")
            for hook in policy.webhooks {
                w.line("    - name: \(scalar(hook.name))")
                w.line("      format: \(hook.format.rawValue)")
                secret("url", hook.url, indent: "      ", into: &w)
                if let s = hook.secret { secret("secret", s, indent: "      ", into: &w) }
                if let custom = hook.custom {
                    w.line("      method: \(custom.method)")
                    if !custom.headers.isEmpty {
                        w.line("      headers:")
                        for header in custom.headers { secret(header.name, header.value, indent: "        ", into: &w) }
                    }
                    if let body = custom.body { w.line("      body: \(scalar(path(body, from: dir)))") }
                    w.line("      content_type: \(scalar(custom.contentType))")
                }
                templates(hook.templates, dir: dir, indent: "      ", into: &w)
            }
        }
        w.blank()
        w.line("on_recovery:")
        w.line("  all_clear: [\(policy.recovery.allClear.sorted().map(\.rawValue).joined(separator: ", "))]")

        // The daemon file's part, as comments: pasting the whole output into a policy file keeps it one.
        var d = Writer()
        if let smtp {
            d.line("smtp:")
            d.line("  \(smtp.name):")
            d.line("    url: \(scalar(smtp.url))")
            d.line("    starttls: \(smtp.startTLS.rawValue)")
            if let user = smtp.username { d.line("    username: \(scalar(user))") }
            if let password = smtp.password { secret("password", password, indent: "    ", into: &d) }
            if let ca = smtp.caFile { d.line("    ca_file: \(scalar(ca))") }
            d.line("    verify_tls: \(smtp.verifyTLS)")
            d.line("    max_connections: \(smtp.maxConnections)")
            if let rate = smtp.rate { d.line("    rate: \(rate)") }
            d.line("    timeout: \(smtp.timeout)")
        }
        if !platforms.isEmpty {
            d.line("platforms:")
            for p in platforms {
                d.line("  \(p.id.rawValue):\(p.builtIn ? "  # built in" : "")")
                d.line("    name: \(scalar(p.displayName))")
                health(p.health, indent: "    ", into: &d)
                d.line("    probes:")
                for probe in p.probes { self.probe(probe, indent: "      ", into: &d) }
            }
        }
        if !d.text.isEmpty {
            w.blank()
            w.comment("What it uses from \(daemonFile), in that file's keys:")
            for l in d.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() { w.comment(String(l)) }
        }
        return w.text
    }

    // MARK: pieces

    private static func links(_ list: [ContactLink], indent: String, into w: inout Writer) {
        for link in list {
            w.line("\(indent)- label: \(scalar(link.label))")
            w.line("\(indent)  url: \(scalar(link.url))")
        }
    }

    private static func templates(_ refs: TemplateRefs, dir: String, indent: String, into w: inout Writer) {
        guard refs.opened != nil || refs.resolved != nil else { return }
        w.line("\(indent)templates:")
        if let p = refs.opened { w.line("\(indent)  opened: \(scalar(path(p, from: dir)))") }
        if let p = refs.resolved { w.line("\(indent)  resolved: \(scalar(path(p, from: dir)))") }
    }

    /// A secret as its reference (`env:NAME`, `credential:NAME`, `KEY_file: PATH`), which is not
    /// the secret; a value written inline stays redacted.
    private static func secret(_ key: String, _ secret: Secret, indent: String, into w: inout Writer) {
        let origin = secret.origin
        if origin.hasPrefix("env:") || origin.hasPrefix("credential:") {
            w.line("\(indent)\(key): \(scalar(origin))")
        } else if origin.hasPrefix("file:") {
            w.line("\(indent)\(key)_file: \(scalar(String(origin.dropFirst(5))))")
        } else {
            w.line("\(indent)\(key): \(scalar(secret.description))  # redacted")
        }
    }

    static func health(_ h: HealthSettings, indent: String, into w: inout Writer) {
        w.line("\(indent)interval: \(h.interval)")
        w.line("\(indent)timeout: \(h.timeout)")
        w.line("\(indent)jitter: \(percent(h.jitter))")
        w.line("\(indent)failure_threshold: \(h.failureThreshold)")
        w.line("\(indent)success_threshold: \(h.successThreshold)")
        w.line("\(indent)quorum: \(h.quorum)")
        w.line("\(indent)flap:")
        w.line("\(indent)  max_transitions: \(h.flap.maxTransitions)")
        w.line("\(indent)  window: \(h.flap.window)")
        w.line("\(indent)  stable_for: \(h.flap.stableFor)")
    }

    static func probe(_ p: ProbeSpec, indent: String, into w: inout Writer) {
        let more = indent + "  "
        switch p.kind {
        case .dns(let host):
            w.line("\(indent)- dns: \(scalar(host))")
        case .tcp(let host, let port):
            w.line("\(indent)- tcp: \(scalar(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"))")
        case .http(let c):
            w.line("\(indent)- http: \(scalar(c.url))")
            w.line("\(more)method: \(c.method)")
            let ranges = c.expectStatus.isEmpty ? [200...399] : c.expectStatus
            w.line("\(more)expect_status: [\(ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ", "))]")
            if let d = c.maxLatency { w.line("\(more)max_latency: \(d)") }
            if let s = c.mustContain { w.line("\(more)must_contain: \(scalar(s))") }
            if let s = c.mustNotContain { w.line("\(more)must_not_contain: \(scalar(s))") }
            w.line("\(more)follow_redirects: \(c.followRedirects)")
            w.line("\(more)verify_tls: \(c.verifyTLS)")
            var headers = c.headers
            if let agent = headers.removeValue(forKey: "User-Agent") {
                w.line("\(more)user_agent: \(agent == HTTPCheck.browserUserAgent ? "browser" : scalar(agent))")
            }
            if !headers.isEmpty {
                w.line("\(more)headers:")
                for (name, value) in headers.sorted(by: { $0.key < $1.key }) { w.line("\(more)  \(name): \(scalar(value))") }
            }
        case .statusFeed(let f):
            w.line("\(indent)- statusfeed: \(scalar(f.url))")
            w.line("\(more)format: \(f.format.rawValue)")
            if let c = f.component { w.line("\(more)component: \(scalar(c))") }
        case .graph(let g):
            w.line("\(indent)- graph: \(scalar(g.object))")
            secret("access_token", g.accessToken, indent: more, into: &w)
            if let fields = g.fields { w.line("\(more)fields: \(scalar(fields))") }
            w.line("\(more)base_url: \(scalar(g.baseURL))")
            w.line("\(more)version: \(scalar(g.version))")
        case .silence(let s):
            w.line("\(indent)- silence: \(scalar(s.name))")
            secret("token", s.token, indent: more, into: &w)
            w.line("\(more)expect_every: \(s.expectEvery)")
            w.line("\(more)open_hours: [\(s.openHours.text.map(scalar).joined(separator: ", "))]")
            w.line("\(more)time_zone: \(scalar(s.openHours.timeZone))")
        }
        if let t = p.timeout { w.line("\(more)timeout: \(t)") }
    }

    // MARK: values

    /// `0.1` → `10%`, as the files write a jitter.
    static func percent(_ share: Double) -> String {
        let p = share * 100
        return p == p.rounded() ? "\(Int(p))%" : String(format: "%g%%", p)
    }

    /// A path as the policy file would write it: relative to the policy's directory when it lies there.
    static func path(_ p: String, from dir: String) -> String {
        guard !dir.isEmpty else { return p }
        let prefix = dir.hasSuffix("/") ? dir : dir + "/"
        return p.hasPrefix(prefix) ? String(p.dropFirst(prefix.count)) : p
    }

    private static let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"]

    /// A YAML scalar: plain when YAML would read it back as the same string, else double-quoted.
    static func scalar(_ s: String) -> String {
        let plain = !s.isEmpty
            && !"-?:,[]{}#&*!|>'\"%@` \t".contains(s.first ?? " ")
            && s.last != " " && s.last != ":"
            && !s.contains(": ") && !s.contains(" #")
            && s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
            && !reserved.contains(s.lowercased())
            && Double(s) == nil && !s.hasPrefix("0x") && !s.hasPrefix("0o")
        return plain ? s : quoted(s)
    }

    private static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7F { out += String(format: "\\x%02X", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    struct Writer {
        var text = ""
        mutating func line(_ s: String) { text += s + "\n" }
        mutating func blank() { text += "\n" }
        mutating func comment(_ s: String) { text += s.isEmpty ? "#\n" : "# \(s)\n" }
    }
}
