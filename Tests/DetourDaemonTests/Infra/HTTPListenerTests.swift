import DetourChannels
import DetourCore
@testable import DetourDaemon
import DetourTransport
import Foundation
import Testing
import TestKit

/// What the unsubscribe handler was called with.
private actor Unsubscribed {
    var calls: [(BusinessID, String)] = []
    /// When set, recording fails as a full or locked database would.
    var failing = false
    func add(_ business: BusinessID, _ email: String) throws {
        if failing { throw CocoaError(.fileWriteUnknown) }
        calls.append((business, email))
    }
    func fail() { failing = true }
}

/// Whether the daemon says it is ready.
private actor Readiness {
    var ready = false
    func set(_ value: Bool) { ready = value }
}

@Suite struct HTTPListenerTests {
    private static let links = UnsubscribeLinks(publicURL: "http://127.0.0.1", key: Array(repeating: 3, count: 32))

    /// The state the listener serves, and what it reports.
    private struct Fixture: Sendable {
        let banners = BannerState()
        let metrics = DetourMetrics()
        let readiness = Readiness()
        let unsubscribed = Unsubscribed()
        let client = CurlHTTPClient(logger: InfraSupport.logger)
    }

    /// Runs a listener on a free port of 127.0.0.1 while `body` runs with its base URL.
    private func withListener(_ fixture: Fixture, _ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let listener = HTTPListenerService(
            host: "127.0.0.1", port: 0, banners: fixture.banners, metrics: fixture.metrics,
            readiness: { await fixture.readiness.ready }, unsubscribe: Self.links,
            onUnsubscribe: { business, email in try await fixture.unsubscribed.add(business, email) },
            logger: InfraSupport.logger, onServerRunning: { continuation.yield($0) })
        try await InfraSupport.running([listener]) {
            let port = try await InfraSupport.first(ports)
            try await body("http://127.0.0.1:\(port)")
        }
        fixture.client.shutdown()
    }

    private func get(_ fixture: Fixture, _ url: String, method: String = "GET", headers: HTTPHeaders = HTTPHeaders(),
                     body: Data? = nil) async throws -> HTTPResponse {
        try await fixture.client.send(HTTPRequest(url: url, method: method, headers: headers, body: body, timeout: .seconds(10)))
    }

    private func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    private func publishBanner(_ banners: BannerState) async throws {
        let document = BannerDocument(
            business: .init(id: "rosies-bakery", name: "Rosie's Bakery"), active: true, event: nil, incident: nil,
            message: "Instagram is down. Call us.", links: [], platforms: ["Instagram"], since: nil,
            updatedAt: Date(timeIntervalSince1970: 1_700_000_000), expiresAt: Date(timeIntervalSince1970: 1_800_000_000))
        let json = try JSONEncoder().encode(document)
        await banners.store(BannerState.Entry(document: document, json: json, html: Data(), revision: 1), for: "rosies-bakery")
    }

    @Test func theBannerIsServedWithETagCorsAndA304WhenUnchanged() async throws {
        let fixture = Fixture()
        try await publishBanner(fixture.banners)
        try await withListener(fixture) { base in
            let json = try await get(fixture, "\(base)/banner/rosies-bakery.json")
            #expect(json.status == 200)
            #expect(json.headers["Content-Type"] == "application/json; charset=utf-8")
            #expect(json.headers["Access-Control-Allow-Origin"] == "*")
            #expect(json.headers["Cache-Control"] == BannerEndpoint.cacheControl)
            #expect(text(json).contains("Instagram is down. Call us."))
            let etag = try #require(json.headers["ETag"])
            #expect(etag == BannerEndpoint.etag(json.body))

            let unchanged = try await get(fixture, "\(base)/banner/rosies-bakery.json", headers: ["If-None-Match": etag])
            #expect(unchanged.status == 304)
            #expect(unchanged.body.isEmpty)
            #expect(unchanged.headers["ETag"] == etag)

            let script = try await get(fixture, "\(base)/banner/rosies-bakery.js")
            #expect(script.status == 200)
            #expect(script.headers["Content-Type"] == "text/javascript; charset=utf-8")
            #expect(script.body == fixture.banners.script)
            #expect(script.headers["ETag"] == BannerEndpoint.etag(script.body))

            let head = try await get(fixture, "\(base)/banner/rosies-bakery.json", method: "HEAD")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.headers["ETag"] == etag)

            let preflight = try await get(fixture, "\(base)/banner/rosies-bakery.json", method: "OPTIONS",
                                          headers: ["Origin": "https://rosies.example", "Access-Control-Request-Method": "GET"])
            #expect(preflight.status == 204)
            #expect(preflight.headers["Access-Control-Allow-Origin"] == "*")
            #expect(preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS")
        }
    }

    @Test func anUnknownBusinessOrFileIs404() async throws {
        let fixture = Fixture()
        try await withListener(fixture) { base in
            for path in ["/banner/nobody.json", "/banner/nobody.txt", "/banner/Rosies.json", "/nothing-here"] {
                let response = try await get(fixture, base + path)
                #expect(response.status == 404, "\(path)")
            }
        }
    }

    @Test func healthzIsAlwaysOkAndReadyzFollowsReadiness() async throws {
        let fixture = Fixture()
        try await withListener(fixture) { base in
            let health = try await get(fixture, "\(base)/healthz")
            #expect(health.status == 200)
            #expect(text(health) == "ok\n")
            let starting = try await get(fixture, "\(base)/readyz")
            #expect(starting.status == 503)
            #expect(text(starting) == "starting\n")
            await fixture.readiness.set(true)
            let ready = try await get(fixture, "\(base)/readyz")
            #expect(ready.status == 200)
            #expect(text(ready) == "ready\n")
        }
    }

    @Test func metricsAreServedInPrometheusTextFormat() async throws {
        let fixture = Fixture()
        fixture.metrics.deliveryFinished(channel: .email, outcome: .sent, seconds: 0.3)
        fixture.metrics.setPlatformState(.instagram, .down)
        fixture.metrics.probeRound(platform: .instagram)
        fixture.metrics.incidentOpened()
        try await withListener(fixture) { base in
            let response = try await get(fixture, "\(base)/metrics")
            #expect(response.status == 200)
            #expect(response.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let body = text(response)
            for name in ["detour_deliveries_total", "detour_incidents_opened_total", "detour_probe_rounds_total",
                         "detour_platform_state", "detour_queue_depth", "detour_incidents_open",
                         "detour_config_reload_success", "detour_delivery_seconds_bucket"] {
                #expect(body.contains("# TYPE \(name.replacingOccurrences(of: "_bucket", with: ""))"), "\(name) missing")
            }
            #expect(body.contains(#"detour_deliveries_total{channel="email",outcome="sent"} 1"#))
            #expect(body.contains(#"detour_platform_state{platform="instagram",state="down"} 1.0"#))
        }
    }

    @Test func oneClickUnsubscribeCallsTheHandlerWithTheBusinessAndEmail() async throws {
        let fixture = Fixture()
        try await withListener(fixture) { base in
            let link = Self.links.url(business: BusinessID("rosies-bakery"), email: "ana@example.org")
            let url = link.replacingOccurrences(of: "http://127.0.0.1", with: base)
            let response = try await get(fixture, url, method: "POST",
                                         headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                         body: Data("List-Unsubscribe=One-Click".utf8))
            #expect(response.status == 200)
            #expect(response.headers["Content-Type"] == "text/html; charset=utf-8")
            #expect(response.headers["Content-Security-Policy"] == UnsubscribePage.headers["Content-Security-Policy"])
            #expect(text(response).contains("<h1>Unsubscribed</h1>"))
            #expect(text(response).contains("<strong>ana@example.org</strong> will no longer get outage notices from <strong>rosies-bakery</strong>"))
        }
        let calls = await fixture.unsubscribed.calls
        #expect(calls.count == 1)
        #expect(calls.first?.0 == BusinessID("rosies-bakery"))
        #expect(calls.first?.1 == "ana@example.org")
    }

    @Test func aForgedTokenIs400AndUnsubscribesNobody() async throws {
        let fixture = Fixture()
        try await withListener(fixture) { base in
            let forger = UnsubscribeLinks(publicURL: base, key: Array(repeating: 9, count: 32))
            let forged = forger.url(business: BusinessID("rosies-bakery"), email: "ana@example.org")
            let post = try await get(fixture, forged, method: "POST", body: Data("List-Unsubscribe=One-Click".utf8))
            #expect(post.status == 400)
            #expect(text(post).hasPrefix("This unsubscribe link is not valid"))
            let page = try await get(fixture, forged)
            #expect(page.status == 400)
            let missing = try await get(fixture, "\(base)/unsubscribe?b=rosies-bakery", method: "POST")
            #expect(missing.status == 400)
            #expect(text(missing).hasPrefix("This unsubscribe link is incomplete"))
        }
        #expect(await fixture.unsubscribed.calls.isEmpty)
    }

    @Test func theConfirmationPageEscapesTheAddressAndOnlyAPostUnsubscribes() async throws {
        let fixture = Fixture()
        try await withListener(fixture) { base in
            let email = #"<script>alert("x")</script>@example.org"#
            let link = Self.links.url(business: BusinessID("rosies-bakery"), email: email)
            let page = try await get(fixture, link.replacingOccurrences(of: "http://127.0.0.1", with: base))
            #expect(page.status == 200)
            #expect(page.headers["Content-Type"] == "text/html; charset=utf-8")
            #expect(page.headers["Referrer-Policy"] == "no-referrer")
            let html = text(page)
            #expect(!html.contains("<script>"))
            #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;@example.org"))
            #expect(html.contains(#"<form method="post" action="unsubscribe?b=rosies-bakery&amp;e="#))
            #expect(html.contains(#"name="List-Unsubscribe" value="One-Click""#))
        }
        #expect(await fixture.unsubscribed.calls.isEmpty)
    }

    @Test func hostileAddressesAreEscapedOnTheConfirmationAndDonePages() async throws {
        let fixture = Fixture()
        let email = #""Ana & <img src=x onerror='alert(1)'>"@example.org"#
        let escaped = "&quot;Ana &amp; &lt;img src=x onerror=&#39;alert(1)&#39;&gt;&quot;@example.org"
        try await withListener(fixture) { base in
            let link = Self.links.url(business: BusinessID("rosies-bakery"), email: email)
                .replacingOccurrences(of: "http://127.0.0.1", with: base)
            for (method, heading) in [("GET", "<h1>Unsubscribe</h1>"), ("POST", "<h1>Unsubscribed</h1>")] {
                let page = try await get(fixture, link, method: method, body: method == "POST" ? Data("List-Unsubscribe=One-Click".utf8) : nil)
                let html = text(page)
                #expect(page.status == 200, "\(method)")
                #expect(html.contains(heading), "\(method)")
                #expect(html.contains("<strong>\(escaped)</strong>"), "\(method)")
                #expect(!html.contains("<img"), "\(method)")
                #expect(page.headers["X-Frame-Options"] == "DENY", "\(method)")
            }
        }
        #expect(await fixture.unsubscribed.calls.map(\.1) == [email])
    }

    @Test func aHostileBusinessInASignedLinkIsRefusedWithoutEchoingIt() async throws {
        let fixture = Fixture()
        try await withListener(fixture) { base in
            // Signed with the daemon's own key, so only the business check can refuse it.
            let link = Self.links.url(business: BusinessID("<b>x</b>"), email: "ana@example.org")
                .replacingOccurrences(of: "http://127.0.0.1", with: base)
            for method in ["GET", "POST"] {
                let page = try await get(fixture, link, method: method)
                #expect(page.status == 400, "\(method)")
                #expect(page.headers["Content-Type"] == "text/plain; charset=utf-8", "\(method)")
                #expect(text(page).hasPrefix("This unsubscribe link is not valid"), "\(method)")
                #expect(!text(page).contains("<b>"), "\(method)")
            }
        }
        #expect(await fixture.unsubscribed.calls.isEmpty)
    }

    @Test func theLinkMayComeInTheFormAmongOtherFieldsPercentEncoded() async throws {
        let fixture = Fixture()
        try await withListener(fixture) { base in
            let link = Self.links.url(business: BusinessID("rosies-bakery"), email: "ana+news@example.org")
            let query = try #require(URLComponents(string: link)?.queryItems)
            // Every byte of the link's values percent-encoded, among fields the page does not use.
            func encoded(_ name: String) -> String {
                (query.first { $0.name == name }?.value ?? "").utf8.map { String(format: "%%%02X", $0) }.joined()
            }
            let body = "utm_source=mail+footer&b=\(encoded("b"))&note=a%2Bb+c&e=\(encoded("e"))&t=\(encoded("t"))&List-Unsubscribe=One-Click&nested[x]=1"
            let response = try await get(fixture, "\(base)/unsubscribe", method: "POST",
                                         headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Data(body.utf8))
            #expect(response.status == 200)
            #expect(text(response).contains("<strong>ana+news@example.org</strong>"))
        }
        #expect(await fixture.unsubscribed.calls.map(\.1) == ["ana+news@example.org"])
    }

    @Test func aFormThatDoesNotDecodeIsIgnoredAndTheQueryStillUnsubscribes() async throws {
        let fixture = Fixture()
        try await withListener(fixture) { base in
            let link = Self.links.url(business: BusinessID("rosies-bakery"), email: "ana@example.org")
                .replacingOccurrences(of: "http://127.0.0.1", with: base)
            let response = try await get(fixture, link, method: "POST",
                                         body: Data("List-Unsubscribe=One-Click&List-Unsubscribe=One-Click&x=%zz".utf8))
            #expect(response.status == 200)
            // Without the query, that body is no link at all.
            let bare = try await get(fixture, "\(base)/unsubscribe", method: "POST", body: Data("b=rosies-bakery&b=other".utf8))
            #expect(bare.status == 400)
            #expect(text(bare).hasPrefix("This unsubscribe link is incomplete"))
        }
        #expect(await fixture.unsubscribed.calls.map(\.1) == ["ana@example.org"])
    }

    @Test func thePagesAreTheTemplatesInChannelsUnsubscribe() async throws {
        let fixture = Fixture()
        let email = "ana@example.org"
        let link = Self.links.url(business: BusinessID("rosies-bakery"), email: email)
        func file(_ name: String) throws -> TemplateRenderer {
            try TemplateRenderer.file(Repo.path("channels/unsubscribe/\(name).mustache"))
        }
        let values: [String: Any] = ["business": ["id": "rosies-bakery"], "email": email]
        var confirm = values
        confirm["action"] = "unsubscribe?" + (link.split(separator: "?", maxSplits: 1).last ?? "")
        let expected = (confirm: try file("confirm.html").render(confirm), done: try file("done.html").render(values),
                        incomplete: try file("incomplete.txt").render([:]), invalid: try file("invalid.txt").render([:]))
        try await withListener(fixture) { base in
            let local = link.replacingOccurrences(of: "http://127.0.0.1", with: base)
            let confirm = text(try await get(fixture, local))
            let done = text(try await get(fixture, local, method: "POST"))
            let incomplete = text(try await get(fixture, "\(base)/unsubscribe?b=rosies-bakery"))
            let invalid = text(try await get(fixture, local + "x"))
            #expect(confirm == expected.confirm)
            #expect(done == expected.done)
            #expect(incomplete == expected.incomplete)
            #expect(invalid == expected.invalid)
        }
    }

    @Test func anUnsubscribeThatCannotBeRecordedIs500AskingToTryAgain() async throws {
        let fixture = Fixture()
        await fixture.unsubscribed.fail()
        let expected = try TemplateRenderer.file(Repo.path("channels/unsubscribe/failed.txt.mustache")).render([:])
        try await withListener(fixture) { base in
            let link = Self.links.url(business: BusinessID("rosies-bakery"), email: "ana@example.org")
            let response = try await get(fixture, link.replacingOccurrences(of: "http://127.0.0.1", with: base), method: "POST",
                                         body: Data("List-Unsubscribe=One-Click".utf8))
            #expect(response.status == 500)
            #expect(response.headers["Content-Type"] == "text/plain; charset=utf-8")
            #expect(response.headers["Cache-Control"] == "no-store")
            #expect(text(response) == expected)
            #expect(text(response).hasPrefix("Your unsubscribe could not be recorded just now."))
        }
        #expect(await fixture.unsubscribed.calls.isEmpty)
    }
}
