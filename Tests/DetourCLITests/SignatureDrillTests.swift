import Foundation
import Testing
import TestKit

/// The real outages' signatures, through the real daemon, PASS or FAIL:
/// - March 2024: the pages load, the business's API calls fail and its inbound messages stop → failover;
/// - silence outside open hours → nothing;
/// - metastatus reports "High disruptions" on the Cloud API while every probe is healthy → nothing
///   (a feed corroborates; it never fails a business over alone).
/// (The expired token is `GraphTokenDrillTests`.)
@Suite(.serialized) struct SignatureDrillTests {
    static let signalToken = "sig-salon-0123456789abcdef"

    func graph(_ mode: String, in dir: TempDir) throws -> LocalServer {
        let file = dir.file("graph.json")
        try JSONSerialization.data(withJSONObject: ["tokens": ["EAAB-salon": "valid"], "mode": mode,
                                                    "objects": ["106540352242922": ["id": "106540352242922"]]])
            .write(to: URL(fileURLWithPath: file))
        return try LocalServer(script: "graph_server.py", arguments: [file])
    }

    func probes(graph: LocalServer, openHours: String) -> String {
        """
              - graph: "106540352242922"
                access_token: env:SALON_GRAPH_TOKEN
                base_url: http://127.0.0.1:\(graph.port)
              - silence: salon
                token: env:SALON_SIGNAL_TOKEN
                expect_every: 5s
                open_hours: "\(openHours)"
                time_zone: UTC
        """
    }

    static let env = ["SALON_GRAPH_TOKEN": "EAAB-salon", "SALON_SIGNAL_TOKEN": signalToken]

    @Test func march2024PagesLoadTheAPIFailsAndInboundGoesSilentSoTheBusinessFailsOver() throws {
        let standIns = try TempDir("drill-2024")
        let api = try graph("down", in: standIns)
        var o = DaemonHarness.Options()
        o.extraProbes = probes(graph: api, openHours: "Daily 00:00-24:00")
        let h = try DaemonHarness(o)
        try h.start(environment: Self.env)
        defer { h.stop() }
        // While messages still arrive, the failing API alone is one of three: no failover.
        for _ in 0..<6 {
            let r = try PlainHTTP.get(port: h.httpPort, path: "/signal/salon/\(Self.signalToken)", method: "POST")
            #expect(r.status == 204)
            Thread.sleep(forTimeInterval: 1)
        }
        #expect(h.emails().isEmpty, "a failing API with messages still arriving is not enough")
        #expect(try PlainHTTP.get(port: h.httpPort, path: "/signal/salon/wrong-token-0123456789", method: "POST").status == 404)
        // Then the messages stop: silence plus the failing API outvote the page that still loads.
        #expect(h.wait(40) { h.emails().count == 3 }, "PASS needs a failover; log:\n\(h.log().suffix(2500))")
        let status = try h.cli(["status"]).stdout
        #expect(status.contains("no inbound message for") && status.contains("HTTP 500 code 2"), "\(status)")
        withExtendedLifetime(api) {}
    }

    @Test func silenceOutsideOpenHoursIsNotAnOutage() throws {
        let standIns = try TempDir("drill-night")
        let api = try graph("ok", in: standIns)
        // Open only on a day that is not today (UTC): now is outside open hours.
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let other = names[cal.component(.weekday, from: Date()) % 7]
        var o = DaemonHarness.Options()
        o.extraProbes = probes(graph: api, openHours: "\(other) 09:00-10:00")
        let h = try DaemonHarness(o)
        try h.start(environment: Self.env)
        defer { h.stop() }
        Thread.sleep(forTimeInterval: 12)
        #expect(h.emails().isEmpty, "nobody is told of silence when the business is closed")
        let status = try h.cli(["status"]).stdout
        #expect(status.contains("operational"), "\(status)")
        withExtendedLifetime(api) {}
    }

    @Test func highDisruptionsOnTheCloudAPIWithEveryProbeHealthyFailsNothingOver() throws {
        let standIns = try TempDir("drill-feed")
        let orgs = """
            [{"id":"whatsapp-business-api","name":"WhatsApp Business Platform","rss_file_paths":["outage-events-feed-whatsapp-business-api.rss"],
              "services":[{"id":1,"name":"Cloud API","status":"High disruptions","time":"2026-11-29T11:02:00.000Z"}]}]
            """
        let feed = try HTTPStandIn(routes: ["/data/orgs.json": ["status": 200, "body": orgs]], in: standIns)
        var o = DaemonHarness.Options()
        o.extraProbes = """
              - statusfeed: \(feed.baseURL)/data/orgs.json
                format: metastatus
                component: whatsapp-business-api/Cloud API
              - statusfeed: \(feed.baseURL)/data/orgs.json
                format: metastatus
                component: WhatsApp
        """
        let h = try DaemonHarness(o)
        try h.start()
        defer { h.stop() }
        #expect(h.wait(15) { (try? h.cli(["status"]).stdout.contains("High disruptions")) == true })
        Thread.sleep(forTimeInterval: 5)
        #expect(h.emails().isEmpty, "a feed alone never fails a business over")
        let status = try h.cli(["status"]).stdout
        #expect(status.contains("! acme: NOT IN FEED: status feed") && status.contains("no org or service named \"WhatsApp\""), "\(status)")
        #expect(try h.cli(["incidents", "--json"]).stdout.contains("[]") || !(try h.cli(["incidents"]).stdout.contains("open")))
    }
}
