import DetourCore
import DetourProbes
import Foundation
import Testing
import TestKit

@Suite(.timeLimit(.minutes(1)))
struct HTTPProbeTests {
    let dir: TempDir
    let server: HTTPStandIn

    init() throws {
        dir = try TempDir()
        server = try HTTPStandIn(routes: [
            "/ok": ["status": 200, "body": "<form>Log in</form>"],
            "/down": ["status": 503, "body": "unavailable"],
            "/slow": ["status": 200, "delay": 0.6, "body": "<form>Log in</form>"],
            "/hang": ["hang": 20],
            "/sorry": ["status": 200, "body": "<h1>Sorry, something went wrong.</h1>"],
            "/teapot": ["status": 418, "body": "short and stout"],
        ], in: dir)
    }

    func probe(_ path: String, timeout: TimeSpan = .seconds(3), _ edit: (inout HTTPCheck) -> Void = { _ in }) -> HTTPProbe {
        var check = HTTPCheck(url: server.baseURL + path)
        edit(&check)
        return HTTPProbe(check: check, timeout: timeout, fetcher: SocketHTTPFetcher())
    }

    @Test func aPageThatAnswers200IsOkWithItsTimings() async {
        let result = await probe("/ok") { $0.mustContain = "Log in" }.run()
        #expect(result.verdict == .ok)
        #expect(result.detail.hasPrefix("HTTP 200 in "))
        #expect(result.probe == server.baseURL + "/ok")
        #expect((result.timings?.total ?? 0) > 0)
    }

    @Test func a503IsFailing() async {
        let result = await probe("/down").run()
        #expect(result.verdict == .failing)
        #expect(result.detail == "HTTP 503")
        #expect(result.timings != nil)
    }

    @Test func anExpectedStatusOutsideTheDefaultRangeIsOk() async {
        let result = await probe("/teapot") { $0.expectStatus = [418...418] }.run()
        #expect(result.verdict == .ok)
    }

    @Test func aCorrectAnswerSlowerThanMaxLatencyIsSlow() async {
        let result = await probe("/slow") { $0.maxLatency = .init(milliseconds: 200) }.run()
        #expect(result.verdict == .slow)
        #expect(result.detail.contains("over the 200ms limit"))
        #expect((result.timings?.total ?? 0) >= 0.5)
    }

    @Test func noAnswerWithinTheTimeoutIsFailingTimedOut() async {
        let started = ContinuousClock.now
        let result = await probe("/hang", timeout: .init(milliseconds: 500)).run()
        #expect(result.verdict == .failing)
        #expect(result.detail == "timed out after 500ms")
        #expect(ContinuousClock.now - started < .seconds(10), "bounded by the timeout, not the 20s hang")
    }

    @Test func anErrorPhraseInTheBodyIsFailing() async {
        let result = await probe("/sorry") { $0.mustNotContain = "Sorry, something went wrong" }.run()
        #expect(result.verdict == .failing)
        #expect(result.detail == "body contains \"Sorry, something went wrong\"")
    }

    @Test func aMissingExpectedPhraseIsFailing() async {
        let result = await probe("/sorry") { $0.mustContain = "Log in" }.run()
        #expect(result.verdict == .failing)
        #expect(result.detail == "body lacks \"Log in\"")
    }

    @Test func aRefusedConnectionIsFailingWithThePhase() async throws {
        let port = try TCPProbeTests.closedPort()
        let check = HTTPCheck(url: "http://127.0.0.1:\(port)/")
        let result = await HTTPProbe(check: check, timeout: .seconds(2), fetcher: SocketHTTPFetcher()).run()
        #expect(result.verdict == .failing)
        #expect(result.detail.hasPrefix("connect: "))
    }

    @Test func aFetcherThatIgnoresItsTimeoutIsStillCutOff() async {
        let result = await HTTPProbe(check: HTTPCheck(url: "http://example.invalid/"), timeout: .init(milliseconds: 300),
                                     fetcher: NeverAnswers()).run()
        #expect(result.verdict == .failing)
        #expect(result.detail == "timed out after 300ms")
    }

    @Test func theProbeSendsTheCheckHeaders() async {
        _ = await probe("/ok") { $0.headers = ["User-Agent": "detour-probe"] }.run()
        let seen = server.requests().last { ($0["path"] as? String) == "/ok" }
        #expect((seen?["headers"] as? [String: Any])?["user-agent"] as? String == "detour-probe")
    }
}

/// A fetcher that never returns and ignores cancellation: what a broken client could do.
struct NeverAnswers: ProbeHTTPFetcher {
    func fetch(_ request: ProbeHTTPRequest) async -> ProbeHTTPOutcome {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread { Thread.sleep(forTimeInterval: 3); c.resume() }.start()
        }
        return .failure(.init(kind: .other, message: "too late"))
    }
}
