import Foundation
import Testing
import TestKit
@testable import DetourTransport

@Suite(.timeLimit(.minutes(1)))
struct CurlHTTPClientTests {
    let dir: TempDir
    let client = CurlHTTPClient(logger: quietLogger)

    init() throws { dir = try TempDir("transport-http") }

    @Test func okReplyCarriesBodyHeadersIPAndTimings() async throws {
        let server = try HTTPStandIn(routes: ["/ok": ["status": 200, "body": "hello",
                                                      "headers": ["X-Thing": "a"]]], in: dir)
        let response = try await client.send(HTTPRequest(url: server.baseURL + "/ok"))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello")
        #expect(response.headers["x-thing"] == "a")
        #expect(response.headers["CONTENT-LENGTH"] == "5")
        #expect(!response.truncated)
        #expect(response.primaryIP == "127.0.0.1")
        #expect(response.timings.connect > .zero)
        #expect(response.timings.startTransfer >= response.timings.connect)
        #expect(response.timings.total >= response.timings.startTransfer)
        #expect(response.timings.total > .zero)
    }

    @Test func serverErrorIsAResponseNotAnError() async throws {
        let server = try HTTPStandIn(routes: ["/down": ["status": 503, "body": "busy",
                                                        "headers": ["Retry-After": "7"]]], in: dir)
        let response = try await client.send(HTTPRequest(url: server.baseURL + "/down"))
        #expect(response.status == 503)
        #expect(response.headers["retry-after"] == "7")
    }

    @Test func slowReplyTimesOutWithinBounds() async throws {
        let server = try HTTPStandIn(routes: ["/slow": ["status": 200, "delay": 20]], in: dir)
        let started = ContinuousClock.now
        let error = await expectFailure(client, HTTPRequest(url: server.baseURL + "/slow?token=s3cret",
                                                            timeout: .milliseconds(500)))
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .timeout)
        #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(10), "bounded by the timeout, not the 20s reply")
        #expect(error?.message == "timed out after 500ms waiting for a reply from \(server.baseURL)/")
        #expect(error.map { !"\($0)".contains("s3cret") && !"\($0)".contains("/slow") } == true)
    }

    @Test func hangingServerIsBoundedByTheTimeout() async throws {
        let hole = try LocalServer(script: "tcp_blackhole.py", arguments: ["30"])
        let started = ContinuousClock.now
        let error = await expectFailure(client, HTTPRequest(url: "http://127.0.0.1:\(hole.port)/x",
                                                            timeout: .seconds(1)))
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - started < .seconds(15), "bounded by the timeout, not the 30s hole")
        #expect(error?.message.contains("waiting for a reply from http://127.0.0.1:\(hole.port)/") == true)
    }

    @Test func closedPortIsAConnectFailure() async throws {
        let server = try HTTPStandIn(routes: [:], in: dir)
        let port = server.port
        server.server.stop()
        let error = await expectFailure(client, HTTPRequest(url: "http://127.0.0.1:\(port)/"))
        #expect(error?.code == .connectFailure)
        #expect(error?.message.hasPrefix("could not connect to http://127.0.0.1:\(port)/") == true)
    }

    @Test func httpsToAPlainServerIsATLSFailure() async throws {
        let server = try HTTPStandIn(routes: ["/x": ["status": 200]], in: dir)
        let error = await expectFailure(client, HTTPRequest(url: "https://127.0.0.1:\(server.port)/x"))
        #expect(error?.code == .tlsFailure)
        #expect(error?.message.hasPrefix("TLS failed with https://127.0.0.1:\(server.port)/") == true)
    }

    @Test func redirectsAreFollowedOnlyWhenAsked() async throws {
        let server = try HTTPStandIn(routes: [
            "/old": ["status": 302, "headers": ["Location": "/new"]],
            "/new": ["status": 200, "body": "moved here"],
        ], in: dir)
        let notFollowed = try await client.send(HTTPRequest(url: server.baseURL + "/old"))
        #expect(notFollowed.status == 302)
        #expect(notFollowed.headers["location"] == "/new")

        let followed = try await client.send(HTTPRequest(url: server.baseURL + "/old", followRedirects: true))
        #expect(followed.status == 200)
        #expect(String(decoding: followed.body, as: UTF8.self) == "moved here")
        #expect(followed.redirectCount == 1)
        #expect(followed.headers["location"] == nil)
    }

    @Test func redirectLoopStopsAtTheLimit() async throws {
        let server = try HTTPStandIn(routes: ["/loop": ["status": 302, "headers": ["Location": "/loop"]]], in: dir)
        let error = await expectFailure(client, HTTPRequest(url: server.baseURL + "/loop", followRedirects: true))
        #expect(error?.code == .tooManyRedirects)
        #expect(server.requests().count == 6)
    }

    @Test func postSendsHeadersAndBody() async throws {
        let server = try HTTPStandIn(routes: ["/hook": ["status": 204]], in: dir)
        let body = Data(#"{"event":"incident.opened"}"#.utf8)
        let response = try await client.send(HTTPRequest(
            url: server.baseURL + "/hook", method: "POST",
            headers: ["Content-Type": "application/json", "Webhook-Id": "msg_1", "X-Multi": "a"],
            body: body))
        #expect(response.status == 204)
        let logged = try #require(server.requests().first)
        #expect(logged["method"] as? String == "POST")
        let headers = try #require(logged["headers"] as? [String: String])
        #expect(headers["content-type"] == "application/json")
        #expect(headers["webhook-id"] == "msg_1")
        #expect(headers["expect"] == nil)
        #expect(logged["body"] as? String == #"{"event":"incident.opened"}"#)
    }

    @Test func headerInjectionIsRefusedBeforeSending() async throws {
        let server = try HTTPStandIn(routes: ["/x": ["status": 200]], in: dir)
        let error = await expectFailure(client, HTTPRequest(url: server.baseURL + "/x",
                                                            headers: ["X-A": "1\r\nX-Evil: 2"]))
        #expect(error?.code == .invalidRequest)
        #expect(server.requests().isEmpty)
    }

    @Test func bodyOverTheCapIsTruncatedAndMarked() async throws {
        let big = String(repeating: "0123456789", count: 10_000)
        let server = try HTTPStandIn(routes: ["/big": ["status": 200, "body": big]], in: dir)
        let response = try await client.send(HTTPRequest(url: server.baseURL + "/big", maxResponseBytes: 1000))
        #expect(response.status == 200)
        #expect(response.truncated)
        #expect(response.body == Data(big.utf8.prefix(1000)))

        let whole = try await client.send(HTTPRequest(url: server.baseURL + "/big", maxResponseBytes: 100_000))
        #expect(!whole.truncated)
        #expect(whole.body.count == 100_000)
    }

    @Test func oversizedResponseHeadersAreRefused() async throws {
        let filler = String(repeating: "h", count: 6000)
        let headers = Dictionary(uniqueKeysWithValues: (0..<50).map { ("X-Filler-\($0)", filler) })
        let server = try HTTPStandIn(routes: ["/fat": ["status": 200, "headers": headers]], in: dir)
        let error = await expectFailure(client, HTTPRequest(url: server.baseURL + "/fat"))
        #expect(error?.code == .tooLarge)
        #expect(error?.message == "response headers from \(server.baseURL)/ exceed 262144 bytes")
    }

    @Test func allowAddressRefusesTheConnectedIP() async throws {
        let server = try HTTPStandIn(routes: ["/hook": ["status": 200]], in: dir)
        let seen = Seen()
        let error = await expectFailure(client, HTTPRequest(
            url: server.baseURL + "/hook?sig=abc", method: "POST", body: Data("x".utf8),
            allowAddress: { ip in seen.add(ip); return ip != "127.0.0.1" }))
        #expect(error?.code == .refusedAddress)
        #expect(error?.message == "refused to send to \(server.baseURL)/: address 127.0.0.1 is not allowed")
        #expect(seen.all == ["127.0.0.1"])
        #expect(server.requests().isEmpty)

        let allowed = try await client.send(HTTPRequest(url: server.baseURL + "/hook", allowAddress: { _ in true }))
        #expect(allowed.status == 200)
    }

    @Test func fiftyConcurrentRequestsAllComplete() async throws {
        // http_server.py listens with Python's default backlog of 5, so the fifty requests are
        // spread over ten stand-ins, five each; the client still has all fifty in flight at once.
        let servers = try (0..<10).map { _ in
            try HTTPStandIn(routes: ["/slowish": ["status": 200, "body": "ok", "delay": 1]], in: dir)
        }
        let client = self.client
        let started = ContinuousClock.now
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                let url = servers[index % servers.count].baseURL + "/slowish"
                group.addTask { try await client.send(HTTPRequest(url: url)).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 50 && statuses.allSatisfy { $0 == 200 })
        // Fifty one-second replies one after another would take 50s.
        #expect(ContinuousClock.now - started < .seconds(25))
        #expect(servers.reduce(0) { $0 + $1.requests().count } == 50)
    }

    @Test func cancellingTheTaskStopsTheTransferPromptly() async throws {
        let server = try HTTPStandIn(routes: ["/slow": ["status": 200, "delay": 30]], in: dir)
        let client = self.client
        let task = Task { () -> TransportError.Code? in
            do {
                _ = try await client.send(HTTPRequest(url: server.baseURL + "/slow", timeout: .seconds(30)))
                return nil
            } catch {
                return (error as? TransportError)?.code
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        task.cancel()
        let code = try await within(.seconds(15)) { await task.value }
        #expect(code == .cancelled)
        #expect(ContinuousClock.now - started < .seconds(10), "cancelled, not waited out (30s reply)")
    }

    @Test func requestsAfterShutdownFailAtOnce() async throws {
        let client = CurlHTTPClient(logger: quietLogger)
        client.shutdown()
        let error = await expectFailure(client, HTTPRequest(url: "http://127.0.0.1:9/"))
        #expect(error?.code == .cancelled)
    }
}

/// Addresses seen by an `allowAddress` check, collected across threads.
final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
