/// One check of a platform (or of a control target), as configured.
public struct ProbeSpec: Sendable, Hashable, Codable {
    public enum Kind: Sendable, Hashable {
        case dns(host: String)
        case tcp(host: String, port: Int)
        case http(HTTPCheck)
        case statusFeed(StatusFeedCheck)
        case graph(GraphCheck)
        case silence(SilenceCheck)
    }

    public var kind: Kind
    /// Hard timeout for this probe; nil uses the platform's.
    public var timeout: TimeSpan?

    public init(_ kind: Kind, timeout: TimeSpan? = nil) { self.kind = kind; self.timeout = timeout }

    /// A short name for the probe in reasons and tables: `dns instagram.com`, `https://www.instagram.com/`.
    public var label: String {
        switch kind {
        case .dns(let host): return "dns \(host)"
        case .tcp(let host, let port): return "tcp \(host):\(port)"
        case .http(let check): return "\(check.method == "GET" ? "" : check.method + " ")\(check.url)"
        case .statusFeed(let feed): return "status feed \(feed.url)" + (feed.component.map { " (\($0))" } ?? "")
        case .graph(let check): return "graph \(check.object)"
        case .silence(let check): return "silence \(check.name)"
        }
    }

    /// Status feeds corroborate; they never outvote the platform's own probes alone.
    public var isCorroborating: Bool { if case .statusFeed = kind { return true } else { return false } }

    private enum CodingKeys: String, CodingKey { case kind, dns, tcp, http, statusfeed, graph, silence, timeout }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch kind {
        case .dns(let host): try c.encode(host, forKey: .dns)
        case .tcp(let host, let port): try c.encode("\(host):\(port)", forKey: .tcp)
        case .http(let check): try c.encode(check, forKey: .http)
        case .statusFeed(let feed): try c.encode(feed, forKey: .statusfeed)
        case .graph(let check): try c.encode(check, forKey: .graph)
        case .silence(let check): try c.encode(check, forKey: .silence)
        }
        try c.encodeIfPresent(timeout, forKey: .timeout)
    }
    public init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "probes are read from YAML by DetourConfig"))
    }
}

/// A call to the business's own Graph API object with its own access token: what the business
/// feels when Meta's API fails, even while the public pages load.
public struct GraphCheck: Sendable, Hashable, Codable {
    /// `https://graph.facebook.com` (or `https://graph.instagram.com`, or a test server).
    public var baseURL: String
    /// `v26.0`.
    public var version: String
    /// The object to read: a WhatsApp phone-number id, an Instagram account id, a Page id.
    public var object: String
    /// `fields=`; nil reads `id`.
    public var fields: String?
    public var accessToken: Secret

    public static let defaultVersion = "v26.0"

    public init(baseURL: String = "https://graph.facebook.com", version: String = GraphCheck.defaultVersion, object: String,
                fields: String? = nil, accessToken: Secret) {
        self.baseURL = baseURL; self.version = version; self.object = object; self.fields = fields; self.accessToken = accessToken
    }

    /// `{base}/{version}/{object}?fields=…`, never with the token (it goes in a header).
    public var url: String {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        return "\(base)/\(version)/\(object)?fields=\(fields ?? "id")"
    }
}

/// An HTTP(S) check: status, latency and body keywords.
public struct HTTPCheck: Sendable, Hashable, Codable {
    public var url: String
    public var method: String = "GET"
    /// Status codes that count as healthy. Empty means 200-399.
    public var expectStatus: [ClosedRange<Int>] = []
    /// Slower than this is degraded (not failing).
    public var maxLatency: TimeSpan?
    /// Text that must appear in the body (e.g. a word of the login form).
    public var mustContain: String?
    /// Text that must not appear in the body (error-page strings such as "Sorry, something went wrong").
    public var mustNotContain: String?
    public var followRedirects: Bool = true
    public var verifyTLS: Bool = true
    public var headers: [String: String] = [:]

    public init(url: String) { self.url = url }

    /// What `user_agent: browser` sends: a current desktop Chrome.
    public static let browserUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"

    public func accepts(status: Int) -> Bool {
        expectStatus.isEmpty ? (200...399).contains(status) : expectStatus.contains { $0.contains(status) }
    }
}

/// An official status feed: Atlassian Statuspage v2 or Meta's status data.
public struct StatusFeedCheck: Sendable, Hashable, Codable {
    public enum Format: String, Sendable, Hashable, Codable, CaseIterable {
        /// Atlassian Statuspage v2 `/api/v2/summary.json`.
        case statuspage
        /// Meta's `metastatus.com/data/orgs.json`.
        case metastatus
        /// Meta's per-org RSS feed of open events, `metastatus.com/outage-events-feed-{org}.rss`.
        case metastatusRSS = "metastatus-rss"
    }
    public var url: String
    public var format: Format
    /// Component (Statuspage) or service (Meta) name to look at; nil means the page's overall indicator.
    public var component: String?

    public init(url: String, format: Format, component: String? = nil) {
        self.url = url; self.format = format; self.component = component
    }
}
