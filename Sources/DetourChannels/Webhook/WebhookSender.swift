import DetourCore
import DetourTransport
import Foundation
import Logging

/// The webhook channel: POSTs one incident event to one of a business's webhooks (its own system
/// with Standard Webhooks signatures, Slack, Teams, Discord or plain JSON) and says how it went.
///
/// It never retries and never follows redirects; it refuses to talk to link-local and cloud metadata
/// addresses, and to loopback or private ones unless the daemon allows them, checking the address it
/// actually connected to. The URL and the signing secret never reach an error or a log line.
public struct WebhookSender: Channel {
    /// Sent with every request.
    public static let userAgent = "detour-webhook/\(BuildInfo.version)"

    private let webhook: WebhookChannel
    private let templates: WebhookTemplates
    /// The body template of a `custom` webhook, loaded once.
    private let custom: CustomBody?
    private let network: WebhookNetwork
    private let client: CurlHTTPClient
    private let logger: Logger
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - webhook: the policy's webhook.
    ///   - network: `webhooks:` from detour.yaml (private targets, timeout).
    ///   - client: the process's shared HTTP client.
    ///   - now: the clock for `webhook-timestamp` and Retry-After dates.
    /// - Throws: when a template file the policy names cannot be read or parsed.
    public init(webhook: WebhookChannel, network: WebhookNetwork, client: CurlHTTPClient, logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }) throws(TemplateRenderer.Problem) {
        self.webhook = webhook
        self.templates = try WebhookTemplates(webhook.templates)
        // A `custom` webhook without its own request shape sends the `json` body by POST.
        let request = webhook.custom ?? (webhook.format == .custom ? WebhookChannel.CustomRequest() : nil)
        self.custom = try request.map(CustomBody.init)
        self.network = network
        self.client = client
        self.logger = logger
        self.now = now
    }

    public func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt {
        let url = webhook.url.reveal()
        let outcome = WebhookOutcome(channel: webhook.name, url: url, secret: webhook.secret?.reveal())
        let sentAt = now()
        let body = try WebhookBody.make(format: webhook.format, channel: webhook.name, message: message,
                                        text: templates.text(for: message.context), secret: webhook.secret,
                                        timestamp: Int64(sentAt.timeIntervalSince1970.rounded(.down)), custom: custom)
        var headers: HTTPHeaders = ["Content-Type": body.contentType, "User-Agent": Self.userAgent]
        for header in webhook.custom?.headers ?? [] { headers.add(header.name, header.value.reveal()) }
        for (name, value) in body.headers { headers.add(name, value) }
        let rule = WebhookAddressRule(allowPrivateTargets: network.allowPrivateTargets)
        let timeout = max(network.timeout.duration, .milliseconds(100))
        let request = HTTPRequest(url: url, method: webhook.custom?.method ?? "POST", headers: headers, body: body.data, timeout: timeout,
                                  connectTimeout: min(timeout, .seconds(10)), followRedirects: false,
                                  maxResponseBytes: 64 * 1024, allowAddress: { rule.allows($0) })
        var metadata: Logger.Metadata = [
            "webhook.name": "\(webhook.name)", "webhook.format": "\(webhook.format.rawValue)",
            "webhook.target": "\(outcome.target)", "delivery.id": "\(message.deliveryID)",
        ]
        let result: Result<DeliveryReceipt, DeliveryError>
        do {
            let response = try await client.send(request, logger: logger)
            metadata["http.status"] = "\(response.status)"
            result = outcome.classify(response, now: now())
        } catch {
            result = .failure(outcome.classify(error))
        }
        switch result {
        case .success(let receipt):
            logger.debug("webhook delivered", metadata: metadata)
            return receipt
        case .failure(let failure):
            metadata["error.code"] = "\(failure.code)"
            metadata["error.retryable"] = "\(failure.retryable)"
            logger.info("webhook delivery failed", metadata: metadata)
            throw failure
        }
    }
}
