import DetourCore
import DetourProbes
import Foundation
import Testing
import TestKit

@Suite(.timeLimit(.minutes(1)))
struct StatusFeedProbeTests {
    let dir: TempDir
    let server: HTTPStandIn

    init() throws {
        dir = try TempDir()
        server = try HTTPStandIn(routes: [
            "/api/v2/summary.json": ["status": 200, "headers": ["Content-Type": "application/json"],
                                     "body": Feeds.statuspage(indicator: "minor", components: [("API", "major_outage"), ("Web", "operational")])],
            "/data/orgs.json": ["status": 200, "body": Feeds.metaTypical],
            "/broken.json": ["status": 200, "body": "{\"status\": {\"indic"],
            "/error.json": ["status": 500, "body": Feeds.statuspage(indicator: "critical")],
            "/hang.json": ["hang": 20],
        ], in: dir)
    }

    func run(_ path: String, _ format: StatusFeedCheck.Format, _ component: String?, timeout: TimeSpan = .seconds(3)) async -> ProbeResult {
        let feed = StatusFeedCheck(url: server.baseURL + path, format: format, component: component)
        return await StatusFeedProbe(feed: feed, timeout: timeout, fetcher: SocketHTTPFetcher()).run()
    }

    @Test func aStatuspageComponentInMajorOutageIsFailingAndCorroborating() async {
        let result = await run("/api/v2/summary.json", .statuspage, "API")
        #expect(result.verdict == .failing)
        #expect(result.corroborating)
        #expect(result.detail == "component \"API\": major_outage")
        #expect(result.probe == "status feed \(server.baseURL)/api/v2/summary.json (API)")
    }

    @Test func theStatuspageIndicatorCountsWhenNoComponentIsNamed() async {
        let result = await run("/api/v2/summary.json", .statuspage, nil)
        #expect(result.verdict == .slow)
    }

    @Test func metaStatusDataIsReadForTheNamedService() async {
        let instagram = await run("/data/orgs.json", .metastatus, "Instagram/Direct Messages")
        #expect(instagram.verdict == .failing)
        #expect(instagram.corroborating)
        let whatsapp = await run("/data/orgs.json", .metastatus, "Cloud API")
        #expect(whatsapp.verdict == .ok)
    }

    @Test func malformedJSONIsUnknown() async {
        let result = await run("/broken.json", .statuspage, nil)
        #expect(result.verdict == .unknown)
        #expect(result.detail == "feed is not valid JSON")
        #expect(result.corroborating)
    }

    @Test func aMissingComponentIsUnknown() async {
        let result = await run("/data/orgs.json", .metastatus, "Threads")
        #expect(result.verdict == .unknown)
    }

    @Test func aFeedAnsweringAnErrorIsUnknownEvenIfItsBodySaysCritical() async {
        let result = await run("/error.json", .statuspage, nil)
        #expect(result.verdict == .unknown)
        #expect(result.detail == "feed answered HTTP 500")
    }

    @Test func aFeedThatHangsIsUnknownAtTheTimeout() async {
        let result = await run("/hang.json", .statuspage, nil, timeout: .init(milliseconds: 400))
        #expect(result.verdict == .unknown)
        #expect(result.detail == "feed unreachable: timed out after 400ms")
    }

    @Test func anUnreachableFeedIsUnknown() async throws {
        let port = try TCPProbeTests.closedPort()
        let feed = StatusFeedCheck(url: "http://127.0.0.1:\(port)/api/v2/summary.json", format: .statuspage)
        let result = await StatusFeedProbe(feed: feed, timeout: .seconds(2), fetcher: SocketHTTPFetcher()).run()
        #expect(result.verdict == .unknown)
        #expect(result.detail.hasPrefix("feed unreachable: connect: "))
    }
}
