import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Testing
import TestKit

/// The URL's path and query and the signing secret never appear in an error, whatever the receiver says.
@Suite(.timeLimit(.minutes(1)))
struct WebhookSecrecyTests {
    let dir: TempDir
    let client = CurlHTTPClient(logger: webhookTestLogger)
    static let token = "T0KEN9b7c6d5e4f3a2"
    static let querySecret = "QSECRETzz81Kq"

    init() throws { dir = try TempDir("webhook-secrecy") }

    /// Everything that must stay out of messages, including the secret's base64 part alone.
    var forbidden: [String] { [Self.token, Self.querySecret, testSigningSecret, String(testSigningSecret.dropFirst(6)), "/services/"] }

    /// A reply that echoes the URL and the secret back, as careless receivers' error pages do.
    func echoingReply(_ status: Int) -> [String: Any] {
        ["status": status, "headers": ["Retry-After": "1"],
         "body": "no hook at http://127.0.0.1/services/\(Self.token)?sig=\(Self.querySecret) (signed with \(testSigningSecret))"]
    }

    func check(_ error: DeliveryError?, _ port: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error else { Issue.record("expected an error", sourceLocation: sourceLocation); return }
        let shown = [error.message, error.description, "\(error)", String(reflecting: error)]
        for text in shown {
            for secret in forbidden { #expect(!text.contains(secret), "\(secret) leaked: \(text)", sourceLocation: sourceLocation) }
        }
        #expect(error.message.contains("webhook crm-hook (http://127.0.0.1:\(port)/)"), "names the channel and the redacted target: \(error.message)",
                sourceLocation: sourceLocation)
    }

    @Test(arguments: [301, 400, 404, 410, 429, 500, 503])
    func statusErrorsNeverShowTheTokenOrSecret(status: Int) async throws {
        let server = try HTTPStandIn(routes: ["/services/\(Self.token)": echoingReply(status)], in: dir)
        let url = server.baseURL + "/services/\(Self.token)?sig=\(Self.querySecret)"
        for format in WebhookChannel.Format.allCases {
            let sender = try WebhookFixture.sender(WebhookFixture.webhook(format, url: url), client: client)
            let error = await attempt(sender, WebhookFixture.message()).error
            check(error, server.port)
            #expect(error?.message.contains("HTTP \(status)") == true)
        }
        #expect(received(server).count == WebhookChannel.Format.allCases.count, "the reply really was the echoing one")
    }

    @Test func transportErrorsNeverShowTheTokenOrSecret() async throws {
        let server = try HTTPStandIn(routes: ["/services/\(Self.token)": ["hang": 20]], in: dir)
        let url = server.baseURL + "/services/\(Self.token)?sig=\(Self.querySecret)"
        let slow = try WebhookFixture.sender(WebhookFixture.webhook(.standard, url: url), timeout: .milliseconds(300), client: client)
        check(await attempt(slow, WebhookFixture.message()).error, server.port)
        let refused = try WebhookFixture.sender(WebhookFixture.webhook(.standard, url: url), allowPrivate: false, client: client)
        check(await attempt(refused, WebhookFixture.message()).error, server.port)
    }

    @Test func theSenderItselfNeverPrintsItsURLOrSecret() throws {
        let sender = try WebhookFixture.sender(WebhookFixture.webhook(.standard, url: "https://hooks.example/services/\(Self.token)"), client: client)
        for text in [String(describing: sender), String(reflecting: sender)] {
            for secret in forbidden { #expect(!text.contains(secret), "\(secret) leaked: \(text)") }
        }
    }
}
