import DetourChannels
import DetourCore
import Foundation
import Testing
import TestKit

@Suite struct BannerEndpointTests {
    /// A state holding Rosie's active banner, published through a real publisher into a temp dir.
    private func served() async throws -> (BannerEndpoint, BannerPublisher, TempDir) {
        let tmp = try TempDir("banner")
        let state = BannerState()
        let publisher = try BannerFixture.publisher(tmp.path, clock: BannerTestClock(), state: state)
        _ = try await publisher.deliver(BannerFixture.message(.opened))
        return (BannerEndpoint(state: state), publisher, tmp)
    }

    @Test func bannerJSONComesWithAStrongETagCORSAndAShortCache() async throws {
        let (endpoint, _, tmp) = try await served()
        let r = await endpoint.respond(path: "/banner/rosies-bakery.json", ifNoneMatch: nil, method: "GET")
        #expect(r.status == 200)
        #expect(r.body == FileManager.default.contents(atPath: tmp.file("banner.json")))
        #expect(r.headers["Content-Type"] == "application/json; charset=utf-8")
        #expect(r.headers["Content-Length"] == String(r.body.count))
        #expect(r.headers["Cache-Control"] == "public, max-age=30")
        #expect(r.headers["Access-Control-Allow-Origin"] == "*")
        #expect(r.headers["Vary"] == "Origin")
        #expect(r.headers["X-Content-Type-Options"] == "nosniff")
        let etag = try #require(r.headers["ETag"])
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && !etag.hasPrefix("W/"))
        #expect(etag == BannerEndpoint.etag(r.body))
    }

    @Test func bannerJSIsTheCompiledInScript() async throws {
        let (endpoint, _, _) = try await served()
        let r = await endpoint.respond(business: "rosies-bakery", file: .js, ifNoneMatch: nil, method: "GET")
        #expect(r.status == 200)
        #expect(String(decoding: r.body, as: UTF8.self) == BannerScript.text)
        #expect(r.headers["Content-Type"] == "text/javascript; charset=utf-8")
        #expect(r.headers["X-Content-Type-Options"] == "nosniff")
    }

    @Test func aMatchingIfNoneMatchGets304AndAChangedBannerANewETag() async throws {
        let (endpoint, publisher, _) = try await served()
        let first = await endpoint.respond(business: "rosies-bakery", file: .json, ifNoneMatch: nil, method: "GET")
        let etag = try #require(first.headers["ETag"])

        for header in [etag, "W/\(etag)", "\"other\", \(etag)", "*"] {
            let again = await endpoint.respond(business: "rosies-bakery", file: .json, ifNoneMatch: header, method: "GET")
            #expect(again.status == 304, "If-None-Match: \(header)")
            #expect(again.body.isEmpty)
            #expect(again.headers["ETag"] == etag)
            #expect(again.headers["Access-Control-Allow-Origin"] == "*")
        }
        let stale = await endpoint.respond(business: "rosies-bakery", file: .json, ifNoneMatch: "\"nope\"", method: "GET")
        #expect(stale.status == 200)

        _ = try await publisher.deliver(BannerFixture.message(.resolved))
        let changed = await endpoint.respond(business: "rosies-bakery", file: .json, ifNoneMatch: etag, method: "GET")
        #expect(changed.status == 200)
        #expect(changed.headers["ETag"] != etag)
        #expect(BannerDocument.decode(changed.body)?.active == false)
    }

    @Test func headGivesTheHeadersWithoutTheBody() async throws {
        let (endpoint, _, _) = try await served()
        let r = await endpoint.respond(business: "rosies-bakery", file: .json, ifNoneMatch: nil, method: "HEAD")
        #expect(r.status == 200)
        #expect(r.body.isEmpty)
        #expect(Int(r.headers["Content-Length"] ?? "") ?? 0 > 0)
    }

    @Test func otherMethodsAreRefusedAndPreflightIsAnswered() async throws {
        let (endpoint, _, _) = try await served()
        let post = await endpoint.respond(business: "rosies-bakery", file: .json, ifNoneMatch: nil, method: "POST")
        #expect(post.status == 405)
        #expect(post.headers["Allow"] == "GET, HEAD, OPTIONS")
        let preflight = await endpoint.respond(business: "rosies-bakery", file: .json, ifNoneMatch: nil, method: "OPTIONS")
        #expect(preflight.status == 204)
        #expect(preflight.headers["Access-Control-Allow-Origin"] == "*")
    }

    @Test func anUnknownBusinessIs404AndABadIdIs400() async throws {
        let (endpoint, _, _) = try await served()
        let unknown = await endpoint.respond(business: "glow-salon", file: .json, ifNoneMatch: nil, method: "GET")
        #expect(unknown.status == 404)
        #expect(unknown.headers["Cache-Control"] == "no-store")
        for bad in ["../etc/passwd", "Rosies-Bakery", "rosies/bakery", "", "rosies%2Fbakery", "-x", String(repeating: "a", count: 65)] {
            let r = await endpoint.respond(business: bad, file: .json, ifNoneMatch: nil, method: "GET")
            #expect(r.status == 400, "\(bad)")
        }
    }

    @Test func routeAcceptsOnlyBannerSlugJSONOrJS() {
        #expect(BannerEndpoint.route("/banner/rosies-bakery.json")?.business == "rosies-bakery")
        #expect(BannerEndpoint.route("/banner/rosies-bakery.js")?.file == .js)
        for path in ["/banner/../etc/passwd.json", "/banner/../../x.js", "/banner/a/b.json", "/banner/a%2Fb.json",
                     "/banner/Rosies.json", "/banner/rosies-bakery.html", "/banner/.json", "/banner/rosies-bakery",
                     "/other/rosies-bakery.json", "/banner/rosies.bakery.json"] {
            #expect(BannerEndpoint.route(path) == nil, "\(path)")
        }
    }
}
