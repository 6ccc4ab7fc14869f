import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Testing
import TestKit

@Suite(.timeLimit(.minutes(1)))
struct WebhookResponseTests {
    let dir: TempDir
    let client = CurlHTTPClient(logger: webhookTestLogger)

    init() throws { dir = try TempDir("webhook-response") }

    /// Delivers one opened event to a stand-in answering `reply` and returns the outcome.
    func deliver(replying reply: [String: Any], allowPrivate: Bool = true, timeout: TimeSpan = .seconds(5)) async throws
        -> (Result<DeliveryReceipt, DeliveryError>, HTTPStandIn) {
        let server = try HTTPStandIn(routes: ["/hook": reply, "/elsewhere": ["status": 200]], in: dir)
        let sender = try WebhookFixture.sender(WebhookFixture.webhook(.json, url: server.baseURL + "/hook"),
                                               allowPrivate: allowPrivate, timeout: timeout, client: client)
        return (await attempt(sender, WebhookFixture.message()), server)
    }

    @Test(arguments: [200, 202, 204])
    func twoHundredsAreSuccess(status: Int) async throws {
        let (result, _) = try await deliver(replying: ["status": status])
        #expect(result.receipt?.reply == "HTTP \(status)")
    }

    @Test func aRedirectIsNotFollowedAndIsPermanent() async throws {
        let (result, server) = try await deliver(replying: ["status": 301, "headers": ["Location": "/elsewhere"]])
        let error = try #require(result.error)
        #expect(error.code == "webhook.redirect")
        #expect(error.retryable == false)
        #expect(error.message.contains("HTTP 301"))
        #expect(error.message.contains("redirects are not followed"))
        #expect(received(server).map(\.path) == ["/hook"], "nothing was sent to the Location")
    }

    @Test func goneDisablesTheEndpoint() async throws {
        let (result, _) = try await deliver(replying: ["status": 410, "body": "hook deleted"])
        let error = try #require(result.error)
        #expect(error.code == "webhook.gone")
        #expect(error.disablesEndpoint)
        #expect(error.retryable == false)
        #expect(error.message.contains("HTTP 410: hook deleted"))
        #expect(error.message.contains("disabled until the policy changes"))
    }

    @Test func tooManyRequestsIsRetriedAfterTheSecondsItAsks() async throws {
        let (result, _) = try await deliver(replying: ["status": 429, "headers": ["Retry-After": "7"], "body": "slow down"])
        let error = try #require(result.error)
        #expect(error.retryable)
        #expect(error.retryAfter == .seconds(7))
        #expect(!error.disablesEndpoint)
        #expect(error.message.contains("HTTP 429: slow down"))
    }

    @Test func unavailableIsRetriedAndAnHTTPDateRetryAfterIsHonoured() async throws {
        let later = Date().addingTimeInterval(120)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let (result, _) = try await deliver(replying: ["status": 503, "headers": ["Retry-After": formatter.string(from: later)]])
        let error = try #require(result.error)
        #expect(error.retryable)
        let wait = try #require(error.retryAfter)
        #expect(wait > .seconds(100) && wait <= .seconds(121))
    }

    @Test(arguments: [408, 500, 502, 504])
    func busyOrBrokenReceiversAreRetried(status: Int) async throws {
        let (result, _) = try await deliver(replying: ["status": status])
        #expect(result.error?.retryable == true)
        #expect(result.error?.retryAfter == nil)
        #expect(result.error?.code == "webhook.status")
    }

    @Test(arguments: [400, 401, 403, 404, 422, 501])
    func otherRefusalsArePermanent(status: Int) async throws {
        let (result, _) = try await deliver(replying: ["status": status, "body": "bad payload"])
        let error = try #require(result.error)
        #expect(error.retryable == false)
        #expect(!error.disablesEndpoint)
        #expect(error.message.contains("HTTP \(status): bad payload"))
    }

    @Test func theReplyInAnErrorIsCutToTwoHundredCharactersOnOneLine() async throws {
        let (result, _) = try await deliver(replying: ["status": 400, "body": "line one\nline two\r\n" + String(repeating: "x", count: 5000)])
        let error = try #require(result.error)
        #expect(error.message.contains("HTTP 400: line one line two xxx"))
        #expect(!error.message.contains("\n"))
        #expect(error.message.count < 400)
        #expect(error.message.hasSuffix("…"))
    }

    @Test func aReceiverThatNeverAnswersTimesOutAndIsRetried() async throws {
        let started = ContinuousClock.now
        let (result, _) = try await deliver(replying: ["hang": 20], timeout: .milliseconds(500))
        let elapsed = ContinuousClock.now - started
        let error = try #require(result.error)
        #expect(error.retryable)
        #expect(error.code == "webhook.timeout")
        #expect(elapsed < .seconds(10), "bounded by the 500ms timeout, not the 20s hang")
    }

    @Test func aClosedPortIsRetried() async throws {
        let server = try HTTPStandIn(routes: [:], in: dir)
        let port = server.port
        server.server.stop()
        let sender = try WebhookFixture.sender(WebhookFixture.webhook(.json, url: "http://127.0.0.1:\(port)/hook"), client: client)
        let error = try #require(await attempt(sender, WebhookFixture.message()).error)
        #expect(error.retryable)
        #expect(error.code == "webhook.connectFailure")
    }

    @Test func loopbackIsRefusedWhenPrivateTargetsAreNotAllowed() async throws {
        let (result, server) = try await deliver(replying: ["status": 200], allowPrivate: false)
        let error = try #require(result.error)
        #expect(error.code == "webhook.refused-target")
        #expect(error.retryable == false)
        #expect(received(server).isEmpty, "the request never reached the receiver")
    }
}
