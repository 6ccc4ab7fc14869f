/// What metastatus.com actually publishes, so that a configured component can be checked against it.
///
/// Meta documents none of its data files; the org ids below are those that third-party readers of
/// `metastatus.com/data/orgs.json` and of its `outage-events-feed-{org}.rss` feeds list (e.g. the feed
/// list of a public status aggregator: ads-manager, catalog, ctx, fb-ig-shops, fbs, ig-boost,
/// admin-center, audience-network, workplace, facebook-login, graph-api, ig-messenger, messenger,
/// whatsapp-business-api, marketing-api, ads-transparency, data-transparency). The WhatsApp Business
/// Platform's services are the ones Meta's "WhatsApp Business Platform Status" page lists
/// (developers.facebook.com/documentation/business-messaging/whatsapp/support/api-status-page).
/// There is no org for the consumer apps (Facebook, Instagram, WhatsApp, Messenger, Threads).
public enum MetaStatusCatalogue {
    public struct Org: Sendable, Hashable {
        public var id: String
        public var name: String
        /// Service names known to be published under it; empty when only its id is known.
        public var services: [String]
    }

    public static let orgs: [Org] = [
        Org(id: "whatsapp-business-api", name: "WhatsApp Business Platform",
            services: ["Cloud API", "Cloud API - Localized Storage", "WhatsApp Business Account Management", "Embedded Signup",
                       "Marketing Messages API for WhatsApp"]),
        Org(id: "graph-api", name: "Graph API", services: ["Platform Status"]),
        Org(id: "facebook-login", name: "Facebook Login", services: ["Platform Status"]),
        Org(id: "messenger", name: "Messenger Platform", services: []),
        Org(id: "ig-messenger", name: "Instagram Messaging", services: []),
        Org(id: "ig-boost", name: "Instagram Boost", services: []),
        Org(id: "fb-ig-shops", name: "Facebook and Instagram Shops", services: []),
        Org(id: "marketing-api", name: "Marketing API", services: []),
        Org(id: "ads-manager", name: "Ads Manager", services: []),
        Org(id: "catalog", name: "Catalog", services: []),
        Org(id: "ctx", name: "Click to Messaging Ads", services: []),
        Org(id: "fbs", name: "Meta Business Suite", services: []),
        Org(id: "admin-center", name: "Meta Admin Center", services: []),
        Org(id: "audience-network", name: "Audience Network", services: []),
        Org(id: "workplace", name: "Workplace from Meta", services: []),
        Org(id: "ads-transparency", name: "Ads Transparency", services: []),
        Org(id: "data-transparency", name: "Data Transparency", services: []),
    ]

    /// Whether `component` (a service name, `org/service`, or an org id or name) names something the
    /// catalogue knows. A service name is accepted under an org whose services are not all known.
    public static func knows(_ component: String) -> Bool {
        func same(_ a: String, _ b: String) -> Bool { a.caseInsensitiveCompare(b) == .orderedSame }
        let c = component.trimmingCharacters(in: .whitespaces)
        if orgs.contains(where: { same($0.id, c) || same($0.name, c) || $0.services.contains { same($0, c) } }) { return true }
        guard let slash = c.firstIndex(of: "/") else { return false }
        let orgPart = String(c[..<slash]), service = String(c[c.index(after: slash)...])
        guard let org = orgs.first(where: { same($0.id, orgPart) || same($0.name, orgPart) }) else { return false }
        return org.services.isEmpty || org.services.contains { same($0, service) }
    }

    /// `https://metastatus.com/outage-events-feed-{org}.rss`.
    public static func rssURL(org: String) -> String { "https://metastatus.com/outage-events-feed-\(org).rss" }
}
