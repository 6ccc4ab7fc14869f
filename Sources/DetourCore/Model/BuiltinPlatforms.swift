/// The platforms and control probes Detour watches when `detour.yaml` says nothing about them.
public enum BuiltinPlatforms {
    private static let metaStatus = "https://metastatus.com/data/orgs.json"

    private static func https(_ url: String, mustNotContain: String? = nil) -> ProbeSpec {
        var check = HTTPCheck(url: url)
        check.mustNotContain = mustNotContain
        check.maxLatency = .seconds(5)
        return ProbeSpec(.http(check))
    }

    private static func feed(_ service: String) -> ProbeSpec {
        ProbeSpec(.statusFeed(StatusFeedCheck(url: metaStatus, format: .metastatus, component: service)))
    }

    /// Probes of each built-in platform: DNS of its main name, HTTPS of its landing page, and Meta's status data.
    public static func probes(for id: PlatformID) -> [ProbeSpec] {
        switch id {
        case .facebook:
            return [ProbeSpec(.dns(host: "www.facebook.com")),
                    https("https://www.facebook.com/", mustNotContain: "Sorry, something went wrong"),
                    feed("Facebook")]
        case .instagram:
            return [ProbeSpec(.dns(host: "www.instagram.com")),
                    https("https://www.instagram.com/", mustNotContain: "Sorry, something went wrong"),
                    feed("Instagram")]
        case .threads:
            return [ProbeSpec(.dns(host: "www.threads.net")),
                    https("https://www.threads.net/"),
                    feed("Threads")]
        case .messenger:
            return [ProbeSpec(.dns(host: "www.messenger.com")),
                    https("https://www.messenger.com/"),
                    feed("Messenger")]
        case .whatsapp:
            return [ProbeSpec(.dns(host: "web.whatsapp.com")),
                    https("https://www.whatsapp.com/"),
                    feed("WhatsApp")]
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
