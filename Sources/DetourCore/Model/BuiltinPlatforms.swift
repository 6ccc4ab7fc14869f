/// The platforms and control probes Detour watches when `detour.yaml` says nothing about them.
public enum BuiltinPlatforms {
    private static let metaStatus = "https://metastatus.com/data/orgs.json"

    private static func https(_ url: String, mustNotContain: String? = nil) -> ProbeSpec {
        var check = HTTPCheck(url: url)
        check.mustNotContain = mustNotContain
        check.maxLatency = .seconds(5)
        return ProbeSpec(.http(check))
    }

    /// The login page, fetched as a browser would: March 2024's outage broke logins while the home
    /// pages loaded. Any answer below 500 that is not Meta's error page means the login service
    /// answered (a login wall, a redirect, even a 429 for an unknown visitor).
    private static func login(_ url: String) -> ProbeSpec {
        var check = HTTPCheck(url: url)
        check.expectStatus = [200...499]
        check.mustNotContain = "Sorry, something went wrong"
        check.maxLatency = .seconds(5)
        check.headers["User-Agent"] = HTTPCheck.browserUserAgent
        return ProbeSpec(.http(check))
    }

    /// A service (or `org/service`, or a whole org) of `metastatus.com/data/orgs.json`, and the org's RSS feed of open events.
    private static func feeds(_ component: String, org: String) -> [ProbeSpec] {
        [ProbeSpec(.statusFeed(StatusFeedCheck(url: metaStatus, format: .metastatus, component: component))),
         ProbeSpec(.statusFeed(StatusFeedCheck(url: MetaStatusCatalogue.rssURL(org: org), format: .metastatusRSS,
                                               component: component.contains("/") ? String(component.split(separator: "/").last ?? "") : nil)))]
    }

    /// The Graph API host answers every request, with a JSON error without a token: any answer
    /// below 500 means it is up.
    private static func graphHost(_ host: String) -> [ProbeSpec] {
        var check = HTTPCheck(url: "https://\(host)/")
        check.expectStatus = [200...499]
        check.maxLatency = .seconds(5)
        return [ProbeSpec(.dns(host: host)), ProbeSpec(.http(check))]
    }

    /// Probes of each built-in platform. The consumer apps: DNS of the main name and HTTPS of the
    /// landing page (metastatus.com has no org for them, so no feed). Meta's business APIs: the API
    /// host, and the metastatus org and services that publish their state (corroboration only).
    public static func probes(for id: PlatformID) -> [ProbeSpec] {
        switch id {
        case .facebook:
            return [ProbeSpec(.dns(host: "www.facebook.com")),
                    https("https://www.facebook.com/", mustNotContain: "Sorry, something went wrong"),
                    login("https://www.facebook.com/login/")]
        case .instagram:
            return [ProbeSpec(.dns(host: "www.instagram.com")),
                    https("https://www.instagram.com/", mustNotContain: "Sorry, something went wrong"),
                    login("https://www.instagram.com/accounts/login/")]
        case .threads:
            // threads.net moved to threads.com in April 2025 (threads.net redirects there).
            return [ProbeSpec(.dns(host: "www.threads.com")),
                    https("https://www.threads.com/"),
                    login("https://www.threads.com/login")]
        case .messenger:
            return [ProbeSpec(.dns(host: "www.messenger.com")),
                    https("https://www.messenger.com/"),
                    login("https://www.messenger.com/login/")]
        case .whatsapp:
            return [ProbeSpec(.dns(host: "web.whatsapp.com")),
                    https("https://www.whatsapp.com/")]
        case .whatsappCloudAPI:
            return graphHost("graph.facebook.com") + feeds("whatsapp-business-api/Cloud API", org: "whatsapp-business-api")
        case .messengerPlatform:
            return graphHost("graph.facebook.com") + feeds("messenger", org: "messenger")
        case .instagramAPI:
            return graphHost("graph.instagram.com") + feeds("ig-messenger", org: "ig-messenger")
        case .graphAPI:
            return graphHost("graph.facebook.com") + feeds("graph-api", org: "graph-api")
        default:
            return []
        }
    }

    public static func displayName(for id: PlatformID) -> String {
        switch id {
        case .facebook: return "Facebook"
        case .instagram: return "Instagram"
        case .threads: return "Threads"
        case .messenger: return "Messenger"
        case .whatsapp: return "WhatsApp"
        case .whatsappCloudAPI: return "WhatsApp Cloud API"
        case .messengerPlatform: return "Messenger Platform"
        case .instagramAPI: return "Instagram API"
        case .graphAPI: return "Graph API"
        default: return id.rawValue
        }
    }

    /// Targets that are not a platform: when most of these fail too, the problem is our own network.
    public static let controlProbes: [ProbeSpec] = [
        ProbeSpec(.dns(host: "www.wikipedia.org")),
        ProbeSpec(.http({ var c = HTTPCheck(url: "https://www.google.com/generate_204"); c.expectStatus = [204...204]; return c }())),
        ProbeSpec(.http(HTTPCheck(url: "https://one.one.one.one/"))),
    ]
}
