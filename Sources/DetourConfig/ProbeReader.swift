import DetourCore
import Foundation

/// Reads probe lists (`- dns: host`, `- tcp: host:port`, `- http: URL …`, `- statusfeed: URL …`)
/// and the health settings block shared by `probes:` defaults and per-platform overrides.
enum ProbeReader {
    static let kinds = ["dns", "tcp", "http", "statusfeed", "graph", "silence"]

    /// - Parameter secrets: reads a `graph` probe's access token; without it (control probes) a graph probe is an error.
    static func probes(_ node: YNode, secrets: SecretReader? = nil) -> [ProbeSpec]? {
        guard let items = node.sequence() else { return nil }
        var out: [ProbeSpec] = []
        var ok = true
        for item in items {
            if let p = probe(item, secrets: secrets) { out.append(p) } else { ok = false }
        }
        return ok ? out : nil
    }

    static func probe(_ node: YNode, secrets: SecretReader? = nil) -> ProbeSpec? {
        guard let m = node.mapping() else { return nil }
        let present = kinds.filter { m.keys.contains($0) }
        guard present.count == 1 else {
            if present.isEmpty {
                let guess = m.keys.first.flatMap { Suggest.closest(to: $0, in: kinds) }
                node.error("a probe needs exactly one of \(kinds.joined(separator: ", "))",
                           hint: guess.map { "did you mean '\($0)'?" } ?? "for example: - dns: www.instagram.com")
            } else {
                node.error("a probe has one kind, found \(present.joined(separator: " and "))", hint: "write each as its own list item")
            }
            return nil
        }
        let timeout = m.optional("timeout")?.duration(min: .milliseconds(100))
        var spec: ProbeSpec?
        switch present[0] {
        case "dns":
            if let v = m.optional("dns"), let host = hostName(v) { spec = ProbeSpec(.dns(host: host), timeout: timeout) }
        case "tcp":
            if let v = m.optional("tcp"), let hp = hostPort(v) { spec = ProbeSpec(.tcp(host: hp.0, port: hp.1), timeout: timeout) }
        case "http":
            spec = http(m).map { ProbeSpec(.http($0), timeout: timeout) }
        case "silence":
            if let secrets { spec = silence(m, secrets).map { ProbeSpec(.silence($0), timeout: timeout) } } else {
                node.error("a silence probe belongs to a platform, not to controls", hint: "controls check things that are not a platform: dns, tcp or http")
                for k in ["silence", "token", "token_file", "expect_every", "open_hours", "time_zone"] { _ = m.optional(k) }
            }
        case "graph":
            if let secrets { spec = graph(m, secrets).map { ProbeSpec(.graph($0), timeout: timeout) } } else {
                node.error("a graph probe belongs to a platform, not to controls", hint: "controls check things that are not a platform: dns, tcp or http")
                for k in ["graph", "access_token", "access_token_file", "fields", "base_url", "version"] { _ = m.optional(k) }
            }
        default:
            spec = statusFeed(m).map { ProbeSpec(.statusFeed($0), timeout: timeout) }
        }
        m.finish()
        return spec
    }

    private static func http(_ m: MappingReader) -> HTTPCheck? {
        guard let urlNode = m.optional("http"), let url = URLCheck.httpURL(urlNode) else {
            for k in ["method", "expect_status", "max_latency", "must_contain", "must_not_contain", "follow_redirects", "verify_tls", "headers", "user_agent"] { _ = m.optional(k) }
            return nil
        }
        var check = HTTPCheck(url: url)
        var ok = true
        if let v = m.optional("method") {
            if let s = v.singleLine(), ["GET", "HEAD", "POST"].contains(s.uppercased()) { check.method = s.uppercased() }
            else { v.error("method must be GET, HEAD or POST"); ok = false }
        }
        if let v = m.optional("expect_status") {
            if let ranges = statusRanges(v) { check.expectStatus = ranges } else { ok = false }
        }
        if let v = m.optional("max_latency") { if let d = v.duration(min: .milliseconds(1)) { check.maxLatency = d } else { ok = false } }
        if let v = m.optional("must_contain") { if let s = v.string() { check.mustContain = s } else { ok = false } }
        if let v = m.optional("must_not_contain") { if let s = v.string() { check.mustNotContain = s } else { ok = false } }
        if let v = m.optional("follow_redirects") { if let b = v.bool() { check.followRedirects = b } else { ok = false } }
        if let v = m.optional("verify_tls") {
            if let b = v.bool() {
                check.verifyTLS = b
                if !b { v.warning("TLS verification is off for this probe", hint: "a man in the middle could fake this platform's health") }
            } else { ok = false }
        }
        if let v = m.optional("user_agent"), let s = v.singleLine() {
            // `browser` looks like a current desktop browser, for a platform that serves bots a different page.
            check.headers["User-Agent"] = s == "browser" ? HTTPCheck.browserUserAgent : s
        }
        if let v = m.optional("headers"), let hm = v.mapping() {
            for (name, _, value) in hm.named() {
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), let s = value.singleLine() else {
                    value.error("header names are letters, digits and '-'; values are one line"); ok = false; continue
                }
                check.headers[name] = s
            }
        }
        return ok ? check : nil
    }

    /// `silence: NAME`, `token` (a secret), `expect_every`, `open_hours`, `time_zone`.
    private static func silence(_ m: MappingReader, _ secrets: SecretReader) -> SilenceCheck? {
        var name: String?
        if let v = m.optional("silence"), let s = v.singleLine() {
            if Slug.isValid(s) { name = s } else { v.error("silence name '\(s.prefix(40))' must be lowercase letters, digits, '-' or '_'", hint: "it is the NAME in POST /signal/NAME/TOKEN") }
        }
        let token = secrets.read(m, "token", inlineWarning: "the signal token is written inline")
        if token == nil, m.optional("token") == nil, m.optional("token_file") == nil {
            m.node.error("a silence probe needs token or token_file (the secret in POST /signal/NAME/TOKEN)",
                         hint: "token: env:SALON_SIGNAL_TOKEN (generate one: head -c 24 /dev/urandom | base64 | tr '+/' '-_')")
        }
        if let t = token?.reveal(), t.count < 16 || !t.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            (m.optional("token") ?? m.optional("token_file"))?.error("a signal token is at least 16 letters, digits, '-' or '_' (it goes in a URL)",
                                                                      hint: "generate one: head -c 24 /dev/urandom | base64 | tr '+/' '-_'")
        }
        let every = m.required("expect_every", hint: "expect_every: 30m (the longest gap between customers' messages in open hours)")?.duration(min: .seconds(5))
        var zone = TimeZone.current.identifier
        if let v = m.optional("time_zone"), let s = v.singleLine() {
            if TimeZone(identifier: s) != nil { zone = s } else { v.error("unknown time zone '\(s.prefix(40))'", hint: "an IANA name such as Europe/London") }
        }
        var hours = OpenHours.always(timeZone: zone)
        if let v = m.optional("open_hours"), let items = v.sequenceOrOne() {
            var spans: [OpenHours.Span] = [], text: [String] = []
            for item in items {
                guard let s = item.singleLine() else { continue }
                if let span = OpenHours.span(s) { spans.append(span); text.append(s) } else {
                    item.error("'\(s.prefix(40))' is not open hours", hint: "days and hours: \"Mon-Fri 09:00-18:00\", \"Sat 10:00-16:00\", \"Daily 08:00-20:00\"")
                }
            }
            hours = OpenHours(spans: spans, timeZone: zone, text: text)
            if m.optional("time_zone") == nil { v.warning("open_hours without time_zone are in this machine's time zone (\(zone))", hint: "add time_zone: Europe/London") }
        }
        guard let name, let token, let every, token.reveal().count >= 16 else { return nil }
        return SilenceCheck(name: name, token: token, expectEvery: every, openHours: hours)
    }

    /// `graph: OBJECT-ID`, `access_token` (a secret), `fields`, `base_url`, `version`.
    private static func graph(_ m: MappingReader, _ secrets: SecretReader) -> GraphCheck? {
        var object: String?
        if let v = m.optional("graph"), let s = v.singleLine() {
            if !s.isEmpty, s.count <= 64, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) { object = s } else {
                v.error("graph: '\(s.prefix(40))' is not a Graph API object id", hint: "the business's WhatsApp phone-number id, Instagram account id or Page id, e.g. 106540352242922")
            }
        }
        let token = secrets.read(m, "access_token", inlineWarning: "the Graph API access token is written inline")
        if token == nil, m.optional("access_token") == nil, m.optional("access_token_file") == nil {
            m.node.error("a graph probe needs access_token or access_token_file", hint: "access_token: env:WHATSAPP_TOKEN (the business's own token)")
        }
        var check = GraphCheck(object: object ?? "", accessToken: token ?? Secret("", origin: "none"))
        if let v = m.optional("fields"), let s = v.singleLine() {
            if s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_,.{}()".contains($0)) }) { check.fields = s } else {
                v.error("fields '\(s.prefix(40))' is not a Graph API field list", hint: "e.g. id,verified_name")
            }
        }
        if let v = m.optional("base_url") {
            if let url = URLCheck.httpURL(v) { check.baseURL = url }
        }
        if let v = m.optional("version"), let s = v.singleLine() {
            if s.hasPrefix("v"), Double(s.dropFirst()) != nil { check.version = s } else { v.error("version '\(s.prefix(20))' is not a Graph API version", hint: "e.g. \(GraphCheck.defaultVersion)") }
        }
        guard object != nil, token != nil else { return nil }
        return check
    }

    private static func statusFeed(_ m: MappingReader) -> StatusFeedCheck? {
        let url = m.optional("statusfeed").flatMap(URLCheck.httpURL)
        let format = m.required("format", hint: "format: statuspage (Atlassian /api/v2/summary.json), metastatus (Meta's orgs.json) or metastatus-rss (its outage-events-feed-ORG.rss)")?.oneOf(StatusFeedCheck.Format.self)
        let componentNode = m.optional("component")
        let component = componentNode?.singleLine()
        if let component, let node = componentNode, format == .metastatus || format == .metastatusRSS, !MetaStatusCatalogue.knows(component) {
            node.warning("metastatus publishes no org or service known as \"\(component.prefix(60))\": this probe may never find it (\"not in feed\")",
                         hint: "known orgs: \(MetaStatusCatalogue.orgs.prefix(6).map(\.id).joined(separator: ", "))…; services such as \"whatsapp-business-api/Cloud API\"")
        }
        guard let url, let format else { return nil }
        return StatusFeedCheck(url: url, format: format, component: component)
    }

    /// `[200, 204, 301-302]` or a single `200`.
    private static func statusRanges(_ node: YNode) -> [ClosedRange<Int>]? {
        guard let items = node.sequenceOrOne() else { return nil }
        var out: [ClosedRange<Int>] = []
        for item in items {
            guard let s = item.string() else { return nil }
            let parts = s.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            if parts.count == 1, let a = parts[0], (100...599).contains(a) { out.append(a...a); continue }
            if parts.count == 2, let a = parts[0], let b = parts[1], (100...599).contains(a), (a...599).contains(b) { out.append(a...b); continue }
            item.error("\"\(s.prefix(20))\" is not a status code or range", hint: "write codes like 200 or ranges like 200-299")
            return nil
        }
        return out
    }

    static func hostName(_ node: YNode) -> String? {
        guard let s = node.singleLine()?.trimmingCharacters(in: .whitespaces) else { return nil }
        let ok = s.count <= 253 && !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":") }
        guard ok else { node.error("\"\(s.prefix(60))\" is not a host name", hint: "write a name like www.instagram.com, without scheme or path"); return nil }
        return s
    }

    private static func hostPort(_ node: YNode) -> (String, Int)? {
        guard let s = node.singleLine() else { return nil }
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port), colon > s.startIndex else {
            node.error("\"\(s.prefix(60))\" is not host:port", hint: "write it as edge-chat.instagram.com:443")
            return nil
        }
        var host = String(s[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    /// Health settings keys, read into `base` (defaults or the daemon-wide values).
    static let healthKeys = ["interval", "timeout", "jitter", "failure_threshold", "success_threshold", "quorum", "flap"]

    static func health(_ m: MappingReader, base: HealthSettings) -> HealthSettings {
        var h = base
        if let v = m.optional("interval"), let d = v.duration(min: .seconds(1)) { h.interval = d }
        if let v = m.optional("timeout"), let d = v.duration(min: .milliseconds(100)) { h.timeout = d }
        if let v = m.optional("jitter"), let s = v.string() {
            let text = s.hasSuffix("%") ? String(s.dropLast()) : s
            if let n = Double(text), (0...50).contains(s.hasSuffix("%") ? n : n * 100) { h.jitter = s.hasSuffix("%") ? n / 100 : n }
            else { v.error("\"\(s.prefix(20))\" is not a jitter share", hint: "write a share of the interval from 0% to 50%, e.g. 10%") }
        }
        if let v = m.optional("failure_threshold"), let n = v.int(in: 1...100) { h.failureThreshold = n }
        if let v = m.optional("success_threshold"), let n = v.int(in: 1...100) { h.successThreshold = n }
        if let v = m.optional("quorum"), let s = v.string() {
            if let q = Quorum(parsing: s) { h.quorum = q }
            else { v.error("\"\(s.prefix(20))\" is not a quorum", hint: "write majority, any, all, or a number of probes") }
        }
        if let v = m.optional("flap"), let fm = v.mapping() {
            if let x = fm.optional("max_transitions"), let n = x.int(in: 2...1000) { h.flap.maxTransitions = n }
            if let x = fm.optional("window"), let d = x.duration(min: .seconds(1)) { h.flap.window = d }
            if let x = fm.optional("stable_for"), let d = x.duration(min: .seconds(1)) { h.flap.stableFor = d }
            fm.finish()
        }
        if h.timeout > h.interval, let v = m.optional("timeout") ?? m.optional("interval") {
            v.error("probe timeout (\(h.timeout)) is longer than the interval (\(h.interval))", hint: "make the timeout shorter than the interval")
        }
        return h
    }
}

/// URL and address checks shared by the loaders.
enum URLCheck {
    static func httpURL(_ node: YNode) -> String? {
        guard let s = node.singleLine()?.trimmingCharacters(in: .whitespaces) else { return nil }
        guard let c = URLComponents(string: s), let scheme = c.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = c.host, !host.isEmpty else {
            node.error("\"\(redact(s))\" is not an http(s) URL", hint: "write a full URL such as https://www.instagram.com/")
            return nil
        }
        return s
    }

    /// Keeps scheme://host:port/ and hides the rest (paths and queries of webhook URLs carry tokens).
    static func redact(_ s: String) -> String {
        guard let c = URLComponents(string: s), let scheme = c.scheme, let host = c.host else { return "<url>" }
        let port = c.port.map { ":\($0)" } ?? ""
        let rest = (c.path.count > 1 || c.query != nil) ? "…" : ""
        return "\(scheme)://\(host)\(port)/\(rest)"
    }
}
