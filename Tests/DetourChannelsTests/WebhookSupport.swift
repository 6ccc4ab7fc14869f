import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Logging
import TestKit

/// A logger that drops everything: tests never bootstrap logging.
let webhookTestLogger = Logger(label: "detour.test.webhook", factory: { _ in SwiftLogNoOpLogHandler() })

/// A signing secret for tests (24 random bytes, base64), and one never used to sign anything.
let testSigningSecret = "whsec_q1fHpaFV3PmQqL0bEXyzEq8Jc1tKpkb5"

enum WebhookFixture {
    static func context(_ event: MessageEvent = .opened, message: String = "Instagram DMs may not reach us. Call us instead.",
                        contacts: [ContactLink] = [ContactLink(label: "Call us", url: "tel:+442079460000"),
                                                   ContactLink(label: "Book online", url: "https://rosies.example/book")]) -> MessageContext {
        MessageContext(event: event, businessID: "rosies-bakery", businessName: "Rosie's Bakery", incidentID: "inc-42",
                       platforms: ["Instagram", "WhatsApp"], since: Date(timeIntervalSince1970: 1_700_000_000),
                       resolvedAt: event == .resolved ? Date(timeIntervalSince1970: 1_700_003_600) : nil,
                       message: message, contacts: contacts)
    }

    static func message(_ event: MessageEvent = .opened, id: String = "dlv_01HZX3K9", context: MessageContext? = nil) -> OutgoingMessage {
        OutgoingMessage(deliveryID: id, recipient: "hook", context: context ?? self.context(event))
    }

    static func webhook(_ format: WebhookChannel.Format, url: String, secret: String? = testSigningSecret,
                        templates: TemplateRefs = TemplateRefs()) -> WebhookChannel {
        WebhookChannel(name: "crm-hook", format: format, url: Secret(url, origin: "inline"),
                       secret: secret.map { Secret($0, origin: "env:HOOK_SECRET") }, templates: templates)
    }

    static func sender(_ webhook: WebhookChannel, allowPrivate: Bool = true, timeout: TimeSpan = .seconds(5),
                       client: CurlHTTPClient, now: @escaping @Sendable () -> Date = { Date() }) throws -> WebhookSender {
        try WebhookSender(webhook: webhook, network: WebhookNetwork(allowPrivateTargets: allowPrivate, timeout: timeout),
                          client: client, logger: webhookTestLogger, now: now)
    }
}

/// Delivers and returns the outcome instead of throwing, so tests can look at either.
func attempt(_ sender: WebhookSender, _ message: OutgoingMessage) async -> Result<DeliveryReceipt, DeliveryError> {
    do { return .success(try await sender.deliver(message)) } catch { return .failure(error) }
}

extension Result where Failure == DeliveryError {
    var error: DeliveryError? { if case .failure(let e) = self { e } else { nil } }
    var receipt: Success? { if case .success(let r) = self { r } else { nil } }
}

/// One request as the stand-in recorded it.
struct ReceivedRequest {
    let method: String
    let path: String
    let headers: [String: String]
    let body: String

    init?(_ raw: [String: Any]) {
        guard let method = raw["method"] as? String, let path = raw["path"] as? String,
              let headers = raw["headers"] as? [String: String], let body = raw["body"] as? String else { return nil }
        self.method = method; self.path = path; self.headers = headers; self.body = body
    }

    /// The body parsed as a JSON object.
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            throw NotJSONObject(body: String(body.prefix(200)))
        }
        return object
    }
}

struct NotJSONObject: Error { let body: String }

func received(_ server: HTTPStandIn) -> [ReceivedRequest] { server.requests().compactMap(ReceivedRequest.init) }

/// Runs `channels/webhook/verify.py` (the receiver-side example in the README) on a received request.
func verifiesWithTheReadmeExample(_ request: ReceivedRequest, secret: String) throws -> Bool {
    try WebhookVerifier.verify(headers: request.headers, body: request.body, secret: secret)
}
