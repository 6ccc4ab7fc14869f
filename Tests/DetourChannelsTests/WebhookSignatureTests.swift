import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Testing
import TestKit

@Suite(.timeLimit(.minutes(1)))
struct WebhookSignatureTests {
    let dir: TempDir
    let client = CurlHTTPClient(logger: webhookTestLogger)

    init() throws { dir = try TempDir("webhook-signature") }

    /// The "sign function works" vector of the Standard Webhooks reference libraries
    /// (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts).
    @Test func signingMatchesTheStandardWebhooksReferenceVector() throws {
        let signer = try StandardWebhookSignature(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let signature = signer.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Data(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        // The prefix is optional, as in the reference libraries.
        let unprefixed = try StandardWebhookSignature(secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(unprefixed.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Data(#"{"test": 2432232314}"#.utf8)) == signature)
    }

    @Test func aSecretThatIsNotBase64IsRefused() {
        #expect(throws: StandardWebhookSignature.InvalidSecret.self) { try StandardWebhookSignature(secret: "whsec_not base64!") }
        #expect(throws: StandardWebhookSignature.InvalidSecret.self) { try StandardWebhookSignature(secret: "whsec_") }
    }

    @Test func aDeliveryVerifiesOnTheReceivedBytesAndHeaders() async throws {
        let server = try HTTPStandIn(routes: ["/hooks/crm": ["status": 204]], in: dir)
        let sender = try WebhookFixture.sender(WebhookFixture.webhook(.standard, url: server.baseURL + "/hooks/crm"), client: client)
        let receipt = try await sender.deliver(WebhookFixture.message(id: "dlv_01HZX3K9"))
        #expect(receipt.reply == "HTTP 204")

        let requests = received(server)
        try #require(requests.count == 1)
        let request = requests[0]
        #expect(request.method == "POST")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["user-agent"] == "detour-webhook/\(BuildInfo.version)", "the version, and no placeholder URL")
        #expect(request.headers["webhook-id"] == "dlv_01HZX3K9")
        let timestamp = try #require(request.headers["webhook-timestamp"].flatMap { Int64($0) })
        #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 60)
        #expect(try verifiesWithTheReadmeExample(request, secret: testSigningSecret), "the README's Python verifier accepts it")
        #expect(try !verifiesWithTheReadmeExample(request, secret: "whsec_" + Data(repeating: 7, count: 24).base64EncodedString()),
                "a different secret does not verify (the check can fail)")
    }

    @Test func aTamperedBodyDoesNotVerify() async throws {
        let server = try HTTPStandIn(routes: ["/h": ["status": 200]], in: dir)
        let sender = try WebhookFixture.sender(WebhookFixture.webhook(.standard, url: server.baseURL + "/h"), client: client)
        _ = try await sender.deliver(WebhookFixture.message())
        let original = try #require(received(server).first)
        let tampered = try #require(ReceivedRequest(["method": "POST", "path": "/h", "headers": original.headers,
                                                     "body": original.body.replacingOccurrences(of: "inc-42", with: "inc-43")]))
        #expect(try !verifiesWithTheReadmeExample(tampered, secret: testSigningSecret))
    }

    @Test func theWebhookIDStaysTheSameAcrossARetryAndEachAttemptIsSigned() async throws {
        let server = try HTTPStandIn(routes: ["/flaky": [["status": 503], ["status": 200]]], in: dir)
        let sender = try WebhookFixture.sender(WebhookFixture.webhook(.standard, url: server.baseURL + "/flaky"), client: client)
        let message = WebhookFixture.message(id: "dlv_retry_1")
        let first = await attempt(sender, message)
        #expect(first.error?.retryable == true)
        let second = await attempt(sender, message)
        #expect(second.receipt?.reply == "HTTP 200")

        let requests = received(server)
        try #require(requests.count == 2)
        #expect(requests.map { $0.headers["webhook-id"] } == ["dlv_retry_1", "dlv_retry_1"])
        #expect(requests[0].body == requests[1].body, "the body describes the event, not the attempt")
        for request in requests { #expect(try verifiesWithTheReadmeExample(request, secret: testSigningSecret)) }
    }

    @Test func onlyTheStandardFormatIsSigned() async throws {
        let server = try HTTPStandIn(routes: ["*": ["status": 200]], in: dir)
        for format in [WebhookChannel.Format.json, .slack, .teams, .discord] {
            let sender = try WebhookFixture.sender(WebhookFixture.webhook(format, url: server.baseURL + "/\(format.rawValue)"), client: client)
            _ = try await sender.deliver(WebhookFixture.message())
        }
        let requests = received(server)
        #expect(requests.count == 4)
        #expect(requests.allSatisfy { $0.headers["webhook-signature"] == nil && $0.headers["content-type"] == "application/json" })
    }

    @Test func aDeliveryIDThatWouldMakeTheSignatureAmbiguousIsRefused() async throws {
        let server = try HTTPStandIn(routes: ["*": ["status": 200]], in: dir)
        let sender = try WebhookFixture.sender(WebhookFixture.webhook(.standard, url: server.baseURL + "/h"), client: client)
        let result = await attempt(sender, WebhookFixture.message(id: "dlv.1"))
        #expect(result.error?.code == "webhook.id")
        #expect(result.error?.retryable == false)
        #expect(received(server).isEmpty)
    }

    @Test func aStandardWebhookWithoutASecretFailsWithoutSending() async throws {
        let server = try HTTPStandIn(routes: ["*": ["status": 200]], in: dir)
        let sender = try WebhookFixture.sender(WebhookFixture.webhook(.standard, url: server.baseURL + "/h", secret: nil), client: client)
        let result = await attempt(sender, WebhookFixture.message())
        #expect(result.error?.code == "webhook.secret")
        #expect(result.error?.retryable == false)
        #expect(received(server).isEmpty)
    }
}

/// The signed request shown in channels/webhook/README.md is exactly what Detour sends.
@Suite struct WebhookReadmeExampleTests {
    @Test func theReadmesStandardExampleIsByteForByteWhatIsSent() throws {
        let readme = try String(contentsOfFile: Repo.path("channels/webhook/README.md"), encoding: .utf8)
        let body = try WebhookBody.make(format: .standard, channel: "booking-system", message: WebhookFixture.message(id: "dlv_01HZX3K9QJ"),
                                        text: WebhookTemplates(TemplateRefs()).text(for: WebhookFixture.context()),
                                        secret: Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", origin: "inline"), timestamp: 1_700_000_060)
        let text = String(decoding: body.data, as: UTF8.self)
        #expect(readme.contains("\n" + text + "\n"), "README body is stale:\n\(text)")
        let headers = Dictionary(uniqueKeysWithValues: body.headers)
        #expect(headers["webhook-id"] == "dlv_01HZX3K9QJ")
        #expect(headers["webhook-timestamp"] == "1700000060")
        let signature = try #require(headers["webhook-signature"])
        #expect(readme.contains("webhook-signature: \(signature)\n"), "README signature is stale: \(signature)")
        #expect(readme.contains("User-Agent: \(WebhookSender.userAgent)"))
    }
}
