import DetourCore
import DetourProbes
import Foundation
import Testing

/// Feed bodies shaped like the real ones (fields trimmed to what matters).
enum Feeds {
    static func statuspage(indicator: String, components: [(String, String)] = []) -> String {
        let list = components.map { "{\"id\":\"x\",\"name\":\"\($0.0)\",\"status\":\"\($0.1)\",\"group\":false}" }
        return """
        {"page":{"id":"p","name":"Example","url":"https://status.example.com"},
         "status":{"indicator":"\(indicator)","description":"Description for \(indicator)"},
         "components":[\(list.joined(separator: ","))],"incidents":[],"scheduled_maintenances":[]}
        """
    }

    static func meta(_ orgs: [(id: String, name: String, services: [(String, String)])]) -> String {
        let list = orgs.map { org in
            let services = org.services.enumerated().map { "{\"id\":\($0.offset + 1),\"name\":\"\($0.element.0)\",\"status\":\"\($0.element.1)\"}" }
            return "{\"id\":\"\(org.id)\",\"name\":\"\(org.name)\",\"services\":[\(services.joined(separator: ","))]}"
        }
        return "[\(list.joined(separator: ","))]"
    }

    static let metaTypical = meta([
        (id: "facebook", name: "Facebook", services: [("Feed", "No known issues"), ("Login", "No known issues")]),
        (id: "instagram", name: "Instagram", services: [("Feed", "Low disruptions"), ("Direct Messages", "High disruptions")]),
        (id: "whatsapp-business-api", name: "WhatsApp Business Platform", services: [("Cloud API", "No known issues")]),
    ])
}

struct StatusFeedInterpreterTests {
    func read(_ text: String, _ format: StatusFeedCheck.Format, _ component: String? = nil) -> (verdict: ProbeResult.Verdict, detail: String) {
        StatusFeedInterpreter.interpret(data: Data(text.utf8), format: format, component: component)
    }

    @Test(arguments: [("none", ProbeResult.Verdict.ok), ("minor", .slow), ("major", .failing), ("critical", .failing),
                      ("wobbly", .unknown)])
    func statuspageIndicatorMapsToAVerdict(indicator: String, expected: ProbeResult.Verdict) {
        let reading = read(Feeds.statuspage(indicator: indicator), .statuspage)
        #expect(reading.verdict == expected)
        if expected != .unknown { #expect(reading.detail == "page indicator \(indicator): Description for \(indicator)") }
    }

    @Test(arguments: [("operational", ProbeResult.Verdict.ok), ("degraded_performance", .slow), ("partial_outage", .slow),
                      ("major_outage", .failing), ("under_maintenance", .ok), ("exploded", .unknown)])
    func statuspageComponentStatusMapsToAVerdict(status: String, expected: ProbeResult.Verdict) {
        // The page indicator says the opposite, to show the named component is what counts.
        let body = Feeds.statuspage(indicator: expected == .ok ? "critical" : "none",
                                    components: [("API", status), ("Web", "major_outage")])
        let reading = read(body, .statuspage, "api")
        #expect(reading.verdict == expected)
        #expect(reading.detail.contains(status))
    }

    @Test func statuspageMaintenanceSaysSo() {
        let reading = read(Feeds.statuspage(indicator: "none", components: [("API", "under_maintenance")]), .statuspage, "API")
        #expect(reading.detail == "component \"API\": under_maintenance (maintenance)")
    }

    @Test func aMissingComponentIsUnknownNeverFailing() {
        let reading = read(Feeds.statuspage(indicator: "critical", components: [("Web", "major_outage")]), .statuspage, "API")
        #expect(reading.verdict == .unknown)
        #expect(reading.detail == "no component named \"API\" in feed")
    }

    @Test(arguments: ["{\"status\":", "<html>502 Bad Gateway</html>", "", "[1,2,3]", "{\"page\":{}}"])
    func anUnreadableFeedIsUnknown(body: String) {
        #expect(read(body, .statuspage).verdict == .unknown)
        #expect(read(body, .metastatus, "Feed").verdict == .unknown)
    }

    @Test(arguments: [("No known issues", ProbeResult.Verdict.ok), ("Resolved", .ok), ("Low disruptions", .slow),
                      ("Medium disruptions", .slow), ("Minor disruption", .slow), ("High disruptions", .failing),
                      ("High disruption", .failing), ("Major disruption", .failing), ("Outage", .failing),
                      ("Partial outage", .slow), ("Something new", .unknown), ("", .unknown)])
    func metaStatusPhrasesMapToAVerdict(phrase: String, expected: ProbeResult.Verdict) {
        let body = Feeds.meta([(id: "instagram", name: "Instagram", services: [("Feed", phrase)])])
        #expect(read(body, .metastatus, "Feed").verdict == expected)
    }

    @Test func metaServiceIsFoundByNameInAnyOrg() {
        let reading = read(Feeds.metaTypical, .metastatus, "direct messages")
        #expect(reading.verdict == .failing)
        #expect(reading.detail == "Instagram/Direct Messages: High disruptions")
    }

    @Test func aNameUsedInTwoOrgsCountsAtItsWorstUnlessTheOrgIsNamed() {
        #expect(read(Feeds.metaTypical, .metastatus, "Feed").verdict == .slow)
        #expect(read(Feeds.metaTypical, .metastatus, "facebook/Feed").verdict == .ok)
        #expect(read(Feeds.metaTypical, .metastatus, "Instagram/feed").verdict == .slow)
    }

    @Test func aWholeOrgCountsAtItsWorstService() {
        #expect(read(Feeds.metaTypical, .metastatus, "instagram").verdict == .failing)
        let ok = read(Feeds.metaTypical, .metastatus, "WhatsApp Business Platform")
        #expect(ok.verdict == .ok)
        #expect(ok.detail == "WhatsApp Business Platform/Cloud API: No known issues")
    }

    @Test func withoutAComponentTheWorstServiceOfTheFeedCounts() {
        let reading = read(Feeds.metaTypical, .metastatus)
        #expect(reading.verdict == .failing)
        #expect(reading.detail.hasPrefix("Instagram/Direct Messages: High disruptions"))
    }

    @Test func aMissingMetaServiceIsUnknown() {
        let reading = read(Feeds.metaTypical, .metastatus, "Threads")
        #expect(reading.verdict == .unknown)
        #expect(reading.detail.hasPrefix("not in feed: no org or service named \"Threads\""))
    }

    @Test func metaDataWrappedInAnObjectIsReadToo() {
        let wrapped = "{\"orgs\": \(Feeds.metaTypical)}"
        #expect(read(wrapped, .metastatus, "Cloud API").verdict == .ok)
        let single = "{\"id\":\"threads\",\"name\":\"Threads\",\"services\":[{\"name\":\"Posting\",\"status\":\"Low disruptions\"}]}"
        #expect(read(single, .metastatus, "Posting").verdict == .slow)
    }
}
