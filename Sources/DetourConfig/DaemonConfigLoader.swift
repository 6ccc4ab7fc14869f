import DetourCore
import Foundation

/// Reads `detour.yaml` into a `DaemonConfig`. Problems go to the diagnostics; a config is returned
/// even when some parts are wrong, so the policies can still be checked against what is known.
struct DaemonConfigLoader {
    let environment: [String: String]
    let diagnostics: Diagnostics

    static let defaultStatePath = "/var/lib/detour/detour.sqlite"
    static let defaultSocket = "/run/detour/control.sock"

    func load(_ path: String) -> DaemonConfig? { read(path).config }

    /// The daemon file, and the platforms it stops watching with `watch: false` (by id), so a policy
    /// that depends on one can be told why it is not there.
    func read(_ path: String) -> (config: DaemonConfig?, unwatched: [String: UnwatchedPlatform]) {
        var unwatched: [String: UnwatchedPlatform] = [:]
        let config = load(path, unwatched: &unwatched)
        return (config, unwatched)
    }

    private func load(_ path: String, unwatched: inout [String: UnwatchedPlatform]) -> DaemonConfig? {
        guard let source = SourceText.read(path, diagnostics: diagnostics),
              let doc = YAMLDocument(source: source, diagnostics: diagnostics),
              let root = doc.rootMapping() else { return nil }
        let dir = (path as NSString).deletingLastPathComponent
        let secrets = SecretReader(environment: environment, baseDir: dir)

        let (configuredState, statePassword) = stateSetting(root.optional("state"), secrets, dir)
        let state = configuredState
            ?? environment["STATE_DIRECTORY"].map { ($0 as NSString).appendingPathComponent("detour.sqlite") }
            ?? Self.defaultStatePath
        let policies = resolve(root.optional("policies")?.singleLine() ?? "policies", relativeTo: dir)

        var http = HTTPListener(host: "127.0.0.1", port: 8470, publicURL: "http://127.0.0.1:8470")
        if let m = root.optional("http")?.mapping() {
            var explicitPublic = false
            if let v = m.optional("listen"), let s = v.singleLine() {
                if let (host, port) = listenAddress(s) { http.host = host; http.port = port }
                else { v.error("\"\(s.prefix(60))\" is not a listen address", hint: "write host:port such as 127.0.0.1:8470 or [::1]:8470") }
            }
            if let v = m.optional("public_url"), let s = URLCheck.httpURL(v) { http.publicURL = s.hasSuffix("/") ? String(s.dropLast()) : s; explicitPublic = true }
            if !explicitPublic {
                http.publicURL = "http://\(http.host.contains(":") ? "[\(http.host)]" : http.host):\(http.port)"
                if ["0.0.0.0", "::"].contains(http.host) {
                    m.node.warning("listening on all interfaces without public_url: links in emails would point at \(http.publicURL)",
                                   hint: "set public_url: to the address customers' browsers use, e.g. https://detour.example.com")
                }
            }
            m.finish()
        }

        var control = ControlSocket(path: environment["RUNTIME_DIRECTORY"].map { ($0 as NSString).appendingPathComponent("control.sock") } ?? Self.defaultSocket, group: nil)
        if let m = root.optional("control")?.mapping() {
            if let s = m.optional("socket")?.singleLine() { control.path = resolve(s, relativeTo: dir) }
            if let s = m.optional("group")?.singleLine() { control.group = s }
            m.finish()
        }

        var smtp: [String: SMTPServer] = [:]
        var smtpNodes: [String: YNode] = [:]
        if let m = root.optional("smtp")?.mapping() {
            for (name, keyNode, value) in m.named() {
                guard Slug.isValid(name) else {
                    keyNode.error("SMTP server name '\(name)' must be lowercase letters, digits, '-' or '_'"); continue
                }
                if let server = smtpServer(name, value, secrets, dir) { smtp[name] = server; smtpNodes[name] = value }
            }
        }

        var webhooks = WebhookNetwork(allowPrivateTargets: false, timeout: .seconds(10))
        let webhooksNode = root.optional("webhooks")
        if let m = webhooksNode?.mapping() {
            if let b = m.optional("allow_private_targets")?.bool() { webhooks.allowPrivateTargets = b }
            if let d = m.optional("timeout")?.duration(min: .milliseconds(100)) { webhooks.timeout = d }
            m.finish()
        }

        var delivery = DeliverySettings()
        var leaseNode: YNode?
        if let m = root.optional("delivery")?.mapping() {
            if let n = m.optional("max_attempts")?.int(in: 1...100) { delivery.maxAttempts = n }
            if let d = m.optional("max_age")?.duration(min: .seconds(60)) { delivery.maxAge = d }
            if let d = m.optional("initial_backoff")?.duration(min: .milliseconds(10)) { delivery.initialBackoff = d }
            if let d = m.optional("max_backoff")?.duration(min: .milliseconds(10)) { delivery.maxBackoff = d }
            leaseNode = m.optional("lease")
            if let d = leaseNode?.duration(min: .seconds(5)) { delivery.lease = d }
            if let c = m.optional("concurrency")?.mapping() {
                if let n = c.optional("email")?.int(in: 1...256) { delivery.emailConcurrency = n }
                if let n = c.optional("webhook")?.int(in: 1...256) { delivery.webhookConcurrency = n }
                if let n = c.optional("sms")?.int(in: 1...64) { delivery.smsConcurrency = n }
                c.finish()
            }
            m.finish()
        }

        // A send that outlasts its lease is claimed again while it still runs, and sent twice.
        var sendTimeouts: [(what: String, timeout: TimeSpan, node: YNode?)] = [("webhooks.timeout", webhooks.timeout, webhooksNode)]
        for (name, server) in smtp.sorted(by: { $0.key < $1.key }) { sendTimeouts.append(("smtp.\(name).timeout", server.timeout, smtpNodes[name])) }
        if let longest = sendTimeouts.max(by: { $0.timeout < $1.timeout }), delivery.lease <= longest.timeout,
           let node = leaseNode ?? longest.node {
            node.error("delivery.lease (\(delivery.lease)) must be longer than \(longest.what) (\(longest.timeout)): a send still running when its lease ends is claimed again and sent twice",
                       hint: "set delivery.lease to at least twice the longest timeout, e.g. lease: \(TimeSpan.seconds(max(60, Int64(longest.timeout.seconds * 2)))), or lower the timeout")
        }

        var health = HealthSettings()
        if let m = root.optional("probes")?.mapping() {
            health = ProbeReader.health(m, base: health)
            m.finish()
        }

        var controls = BuiltinPlatforms.controlProbes
        if let v = root.optional("controls"), let list = ProbeReader.probes(v) {
            if list.contains(where: \.isCorroborating) {
                v.error("status feeds cannot be control probes", hint: "controls are dns, tcp or http checks of things that are not a platform")
            } else { controls = list }
        }

        var platforms: [PlatformID: PlatformSpec] = [:]
        for id in PlatformID.builtIn {
            platforms[id] = PlatformSpec(id: id, displayName: BuiltinPlatforms.displayName(for: id),
                                         probes: BuiltinPlatforms.probes(for: id), health: health, builtIn: true)
        }
        if let m = root.optional("platforms")?.mapping() {
            for (name, keyNode, value) in m.named() {
                guard Slug.isValid(name) else {
                    keyNode.error("platform name '\(name)' must be lowercase letters, digits, '-' or '_'", hint: "for example: my-shop"); continue
                }
                if let m = value.mapping(), let watch = m.optional("watch") {
                    // `watch: false` stops probing a platform (built-in ones included); policies can then not depend on it.
                    if watch.bool() == false {
                        platforms[PlatformID(name)] = nil
                        unwatched[name] = UnwatchedPlatform(id: name, file: watch.file, line: watch.line)
                        continue
                    }
                }
                let id = PlatformID(name)
                // Meta's business APIs are built in but watched only when named here.
                let base = platforms[id] ?? (PlatformID.catalogue.contains(id)
                    ? PlatformSpec(id: id, displayName: BuiltinPlatforms.displayName(for: id), probes: BuiltinPlatforms.probes(for: id),
                                   health: health, builtIn: true) : nil)
                if let p = platform(id, value, base: base, health: health, secrets: secrets) { platforms[p.id] = p }
            }
        }
        var node = NodeSettings()
        if let m = root.optional("node")?.mapping() {
            if let v = m.optional("name"), let name = v.singleLine() {
                if name.isEmpty || name.utf8.count > 64 || name.contains("/") || name.contains(where: \.isWhitespace) {
                    v.error("\"\(name.prefix(70))\" is not a node name", hint: "one word of at most 64 characters, without / (the host name by default)")
                } else {
                    node.name = name
                }
            }
            if let v = m.optional("leader_lease"), let lease = v.duration(min: .seconds(3)) {
                node.leaderLease = lease
            }
            m.finish()
        }
        if let m = root.optional("cluster")?.mapping() {
            if let v = m.optional("quorum"), let text = v.singleLine() {
                if text == "majority" {
                    node.quorum = nil
                } else if let n = Int(text), n >= 1, n <= 100 {
                    node.quorum = n
                } else {
                    v.error("cluster.quorum must be `majority` or a number of nodes from 1 to 100, not \"\(text.prefix(40))\"",
                            hint: "majority (the default): more than half of the nodes whose control probes pass")
                }
            }
            m.finish()
        }
        root.finish()

        var config = DaemonConfig(file: path, statePath: state, policiesDir: policies, http: http, control: control, smtp: smtp,
                                  health: health, controls: controls, platforms: platforms, webhooks: webhooks, delivery: delivery)
        config.statePassword = statePassword
        config.node = node
        return config
    }

    /// `state:` is an SQLite file (a path), or a PostgreSQL URL, or a mapping with the URL under
    /// `url` and its password under `password` / `password_file` (never in the URL).
    private func stateSetting(_ node: YNode?, _ secrets: SecretReader, _ dir: String) -> (String?, Secret?) {
        guard let node else { return (nil, nil) }
        let urlHint = "state: postgres://detour@db.example:5432/detour?sslmode=verify-full"
        if node.isMapping {
            guard let m = node.mapping() else { return (nil, nil) }
            let v = m.required("url", hint: urlHint)
            let password = secrets.read(m, "password", inlineWarning: "the PostgreSQL password is written in the configuration file")
            m.finish()
            guard let v, let url = v.singleLine() else { return (nil, nil) }
            guard Self.isPostgresURL(url) else {
                v.error("\"\(URLCheck.redact(url))\" is not a postgres:// URL", hint: "a mapping under state is for PostgreSQL; for an SQLite file write state: PATH")
                return (nil, nil)
            }
            return checkPostgresURL(url, v) ? (url, password) : (nil, nil)
        }
        guard let text = node.singleLine() else { return (nil, nil) }
        if Self.isPostgresURL(text) { return checkPostgresURL(text, node) ? (text, nil) : (nil, nil) }
        return (resolve(text, relativeTo: dir), nil)
    }

    static func isPostgresURL(_ text: String) -> Bool { text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") }

    /// The parts a PostgreSQL URL must have, checked here so the error points at the line; the store
    /// checks the rest (sslmode, host=) when it connects.
    private func checkPostgresURL(_ text: String, _ node: YNode) -> Bool {
        guard let c = URLComponents(string: text) else {
            node.error("\"\(URLCheck.redact(text))\" is not a URL", hint: "state: postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full")
            return false
        }
        if c.password != nil {
            node.error("the PostgreSQL URL has a password in it", hint: "remove it from the URL and write state: {url: …, password_file: PATH}")
            return false
        }
        if (c.user ?? "").isEmpty || c.path.count < 2 {
            node.error("the PostgreSQL URL must name a user and a database", hint: "state: postgres://USER@HOST:PORT/DATABASE")
            return false
        }
        return true
    }

    private func smtpServer(_ name: String, _ node: YNode, _ secrets: SecretReader, _ dir: String) -> SMTPServer? {
        guard let m = node.mapping() else { return nil }
        var ok = true
        var url: String?
        if let v = m.required("url", hint: "url: smtps://smtp.example.com:465 or smtp://smtp.example.com:587"), let s = v.singleLine() {
            if let c = URLComponents(string: s), let scheme = c.scheme?.lowercased(), ["smtp", "smtps"].contains(scheme), let host = c.host, !host.isEmpty,
               c.user == nil, c.password == nil {
                url = s
            } else {
                v.error("\"\(URLCheck.redact(s))\" is not an smtp:// or smtps:// URL (without credentials)",
                        hint: "url: smtps://smtp.example.com:465; put the login in username and password_file")
            }
        }
        let startTLS = m.optional("starttls")?.oneOf(SMTPServer.StartTLS.self)
            ?? (url?.lowercased().hasPrefix("smtps") == true ? .off : .required)
        if startTLS != .off, url?.lowercased().hasPrefix("smtps") == true, let v = m.optional("starttls") {
            v.error("smtps:// already uses TLS from the first byte; STARTTLS does not apply", hint: "remove starttls, or use an smtp:// URL")
            ok = false
        }
        let username = m.optional("username")?.singleLine()
        let password = secrets.read(m, "password", inlineWarning: "the SMTP password is written in the configuration file")
        if (username == nil) != (password == nil), m.optional("username") != nil || m.optional("password") != nil || m.optional("password_file") != nil {
            m.node.error("SMTP login needs both username and a password", hint: "add the missing one, or remove both for a relay without login")
            ok = false
        }
        let caFile = m.optional("ca_file")?.singleLine().map { resolve($0, relativeTo: dir) }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile), let v = m.optional("ca_file") {
            v.error("cannot read CA file \(caFile)", hint: "check the path"); ok = false
        }
        var verify = true
        if let v = m.optional("verify_tls"), let b = v.bool() {
            verify = b
            if !b { v.warning("TLS verification is off for SMTP server \(name)", hint: "use ca_file for a private CA instead") }
        }
        let maxConnections = m.optional("max_connections")?.int(in: 1...64) ?? 4
        var rate: Rate?
        if let v = m.optional("rate"), let s = v.string() {
            rate = Rate(parsing: s)
            if rate == nil { v.error("\"\(s.prefix(20))\" is not a rate", hint: "write messages per unit: 20/s, 600/m, 10000/h"); ok = false }
        }
        let timeout = m.optional("timeout")?.duration(min: .seconds(1)) ?? .seconds(30)
        m.finish()
        guard ok, let url else { return nil }
        return SMTPServer(name: name, url: url, startTLS: startTLS, username: username, password: password, caFile: caFile,
                          verifyTLS: verify, maxConnections: maxConnections, rate: rate, timeout: timeout)
    }

    private func platform(_ id: PlatformID, _ node: YNode, base: PlatformSpec?, health: HealthSettings, secrets: SecretReader) -> PlatformSpec? {
        guard let m = node.mapping() else { return nil }
        _ = m.optional("watch")?.bool()
        let displayName = m.optional("name")?.singleLine() ?? base?.displayName ?? id.rawValue
        let settings = ProbeReader.health(m, base: base?.health ?? health)
        var probes = base?.probes ?? []
        var ok = true
        if let v = m.optional("probes") {
            if let list = ProbeReader.probes(v, secrets: secrets) { probes = list } else { ok = false }
        }
        if let v = m.optional("extra_probes") {
            if let list = ProbeReader.probes(v, secrets: secrets) { probes += list } else { ok = false }
        }
        m.finish()
        if ok, probes.filter({ !$0.isCorroborating }).isEmpty {
            node.error(base == nil ? "custom platform '\(id)' has no probes" : "platform '\(id)' has no probes of its own (status feeds only corroborate)",
                       hint: "add probes: with at least one dns, tcp or http probe")
            return nil
        }
        return ok ? PlatformSpec(id: id, displayName: displayName, probes: probes, health: settings, builtIn: base?.builtIn ?? false) : nil
    }

    /// `host:port`, `[v6]:port` or `:port` (all interfaces).
    private func listenAddress(_ s: String) -> (String, Int)? {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(s[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}

/// A platform that the daemon file stops watching (`watch: false`), and where it says so.
struct UnwatchedPlatform: Sendable, Hashable {
    var id: String
    var file: String
    var line: Int
}
