import DetourCore
@testable import DetourProbes
import Foundation
import Testing

/// Meta's status files as they are really shaped, and the built-in platforms' feed components
/// against what metastatus.com publishes.
///
/// Shapes (Meta documents none of these files; several independent public readers agree):
/// - `/data/orgs.json`: a top-level array of orgs `{id, name, rss_file_paths, services: [{id (a
///   number), name, status, time}]}`; statuses "No known issues", "Low disruptions", "Medium
///   disruptions", "High disruptions", "Resolved" (readers of the file on GitHub: a Cloudflare status
///   worker filtering `o.id` in a list of org ids, a Discord bot treating `["Resolved","No known
///   issues","Low disruptions","Medium disruptions"]` as no problem, a Python `HostStatusProvider`
///   keyed on `org["id"]`).
/// - `/outage-events-feed-{org}.rss`: RSS 2.0 with a self-referencing `atom:link`, the channel titled
///   "WhatsApp Business Platform Status" / "Graph API Status", no `<item>` while nothing is open; an
///   item's title like `[High disruptions]: Ads Delivery`, a description and a link to the org's page.
/// - Any other path on metastatus.com answers 200 with the same small HTML page.
/// The services of the WhatsApp Business Platform are those on Meta's "WhatsApp Business Platform
/// Status" page (developers.facebook.com, business-messaging/whatsapp/support/api-status-page).
struct MetaStatusRealShapeTests {
    static let orgs = """
    [{"id":"whatsapp-business-api","name":"WhatsApp Business Platform","rss_file_paths":["outage-events-feed-whatsapp-business-api.rss"],
      "services":[{"id":1,"name":"Cloud API","status":"High disruptions","time":"2026-11-29T11:02:00.000Z"},
                  {"id":3,"name":"Cloud API - Localized Storage","status":"No known issues","time":"2026-11-20T08:00:00.000Z"},
                  {"id":4,"name":"WhatsApp Business Account Management","status":"Medium disruptions","time":"2026-11-29T11:05:00.000Z"},
                  {"id":6,"name":"Embedded Signup","status":"No known issues","time":"2026-11-20T08:00:00.000Z"},
                  {"id":7,"name":"Marketing Messages API for WhatsApp","status":"Resolved","time":"2026-11-28T17:40:00.000Z"}]},
     {"id":"graph-api","name":"Graph API","rss_file_paths":["outage-events-feed-graph-api.rss"],
      "services":[{"id":20,"name":"Platform Status","status":"No known issues","time":"2026-11-01T00:00:00.000Z"}]},
     {"id":"facebook-login","name":"Facebook Login","rss_file_paths":["outage-events-feed-facebook-login.rss"],
      "services":[{"id":21,"name":"Platform Status","status":"No known issues","time":"2026-11-01T00:00:00.000Z"}]},
     {"id":"messenger","name":"Messenger Platform","rss_file_paths":["outage-events-feed-messenger.rss"],
      "services":[{"id":30,"name":"Send API","status":"Low disruptions","time":"2026-11-29T10:00:00.000Z"}]},
     {"id":"ig-messenger","name":"Instagram Messaging","rss_file_paths":["outage-events-feed-ig-messenger.rss"],
      "services":[{"id":40,"name":"Messaging","status":"No known issues","time":"2026-11-01T00:00:00.000Z"}]}]
    """

    static func rss(_ items: [(title: String, description: String)], channel: String = "WhatsApp Business Platform Status") -> String {
        let body = items.map { """
            <item><title><![CDATA[\($0.title)]]></title><description><![CDATA[\($0.description)]]></description>
            <link>https://metastatus.com/whatsapp-business-api</link><pubDate>Sun, 29 Nov 2026 11:02:00 GMT</pubDate></item>
            """ }.joined(separator: "\n")
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>\(channel)</title>
        <link>https://metastatus.com/whatsapp-business-api</link>
        <atom:link href="https://metastatus.com/outage-events-feed-whatsapp-business-api.rss" rel="self" type="application/rss+xml"/>
        <description>Outage events</description>
        \(body)
        </channel></rss>
        """
    }

    func read(_ text: String, _ format: StatusFeedCheck.Format, _ component: String?) -> (verdict: ProbeResult.Verdict, detail: String) {
        StatusFeedInterpreter.interpret(data: Data(text.utf8), format: format, component: component)
    }

    @Test func theWhatsAppCloudAPIServiceIsReadFromTheRealShape() {
        let cloud = read(Self.orgs, .metastatus, "whatsapp-business-api/Cloud API")
        #expect(cloud.verdict == .failing && cloud.detail == "WhatsApp Business Platform/Cloud API: High disruptions", "\(cloud)")
        #expect(read(Self.orgs, .metastatus, "WhatsApp Business Account Management").verdict == .slow)
        #expect(read(Self.orgs, .metastatus, "Marketing Messages API for WhatsApp").verdict == .ok, "Resolved is ok")
        #expect(read(Self.orgs, .metastatus, "graph-api").verdict == .ok)
        #expect(read(Self.orgs, .metastatus, "messenger").verdict == .slow)
    }

    @Test func theConsumerAppsAreNotInTheFeedAndSaySo() {
        // ("Messenger" is the id of the Messenger Platform's org, so it does name something.)
        for app in ["Facebook", "Instagram", "WhatsApp", "Threads"] {
            let r = read(Self.orgs, .metastatus, app)
            #expect(r.verdict == .unknown && r.detail.hasPrefix("not in feed: no org or service named \"\(app)\""), "\(r)")
        }
    }

    @Test func everyBuiltInFeedComponentIsOneMetastatusPublishes() {
        for id in PlatformID.builtIn + PlatformID.catalogue {
            for probe in BuiltinPlatforms.probes(for: id) {
                guard case .statusFeed(let feed) = probe.kind else { continue }
                #expect(PlatformID.catalogue.contains(id), "\(id): the consumer apps have no metastatus org")
                if let component = feed.component {
                    #expect(MetaStatusCatalogue.knows(component), "\(id): \(component)")
                    if feed.format == .metastatus {
                        #expect(!read(Self.orgs, .metastatus, component).detail.hasPrefix("not in feed"), "\(id): \(component)")
                    }
                }
                if feed.format == .metastatusRSS {
                    #expect(MetaStatusCatalogue.orgs.contains { feed.url == MetaStatusCatalogue.rssURL(org: $0.id) }, "\(feed.url)")
                }
            }
            #expect(BuiltinPlatforms.probes(for: id).contains { !$0.isCorroborating }, "\(id) has a probe of its own, not feeds only")
        }
        #expect(!MetaStatusCatalogue.knows("Facebook") && !MetaStatusCatalogue.knows("whatsapp-business-api/On-Premises API"))
    }

    @Test func theRSSFeedOfOpenEvents() {
        let empty = read(Self.rss([]), .metastatusRSS, nil)
        #expect(empty.verdict == .ok && empty.detail == "WhatsApp Business Platform Status: no open events", "\(empty)")
        let high = read(Self.rss([("[High disruptions]: Cloud API", "We are aware of major disruptions impacting the ability to send messages via the WhatsApp Business Platform.")]),
                        .metastatusRSS, "Cloud API")
        #expect(high.verdict == .failing && high.detail.contains("1 open event: [High disruptions]: Cloud API"), "\(high)")
        let unsaid = read(Self.rss([("Embedded Signup", "Some businesses cannot finish signing up &amp; are retrying.")]), .metastatusRSS, nil)
        #expect(unsaid.verdict == .slow, "an open event whose level is not said")
        let other = read(Self.rss([("[Medium disruptions]: Embedded Signup", "…")]), .metastatusRSS, "Cloud API")
        #expect(other.verdict == .ok, "an open event of another service")
        let shell = read("<!doctype html><html><head><title>Meta Status</title></head><body><div id=\"root\"></div></body></html>", .metastatusRSS, nil)
        #expect(shell.verdict == .unknown && shell.detail == "feed is not an RSS feed", "metastatus.com's page for any unknown path")
    }
}
