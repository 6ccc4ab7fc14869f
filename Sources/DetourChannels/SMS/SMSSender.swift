import DetourCore
import DetourTransport
import Foundation
import Logging
import Synchronization

/// The `sms` channel: renders one business's text for an incident event (its template, or the
/// short default in `channels/sms/`) and sends it to one customer's phone through the provider.
public struct SMSSender: Channel {
    private let gateway: any SMSGateway
    private let texts: SMSText
    private let pacer: Pacer?
    private let logger: Logger

    /// - Throws: when a template file the policy names cannot be read or parsed.
    public init(settings: SMSChannel, network: WebhookNetwork, client: CurlHTTPClient, logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }) throws(TemplateRenderer.Problem) {
        let timeout = network.timeout.duration
        switch settings.provider {
        case .twilio(let t):
            gateway = TwilioSMS(settings: .init(baseURL: t.baseURL, accountSID: t.accountSID, authToken: t.authToken, from: t.from,
                                                messagingServiceSID: t.messagingServiceSID, timeout: timeout,
                                                allowPrivateTargets: network.allowPrivateTargets), client: client, now: now)
        case .vonage(let v):
            gateway = VonageSMS(settings: v, requests: SMSRequests(client: client, timeout: timeout, allowPrivateTargets: network.allowPrivateTargets,
                                                                   secrets: [v.apiSecret.reveal()]), now: now)
        case .http(let h):
            gateway = HTTPGatewaySMS(settings: h, body: try CustomBody(h.request),
                                     requests: SMSRequests(client: client, timeout: timeout, allowPrivateTargets: network.allowPrivateTargets,
                                                           secrets: [h.url.reveal()] + h.request.headers.map { $0.value.reveal() }), now: now)
        }
        texts = try SMSText(settings.templates)
        pacer = settings.rate.map { Pacer(interval: $0.interval) }
        self.logger = logger
    }

    public func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt {
        let body = texts.render(message.context)
        guard !body.isEmpty else {
            throw DeliveryError(code: "sms.empty", message: "sms to \(message.recipient): the template renders an empty text", retryable: false)
        }
        await pacer?.wait()
        if let http = gateway as? HTTPGatewaySMS {
            return try await http.send(to: message.recipient, text: body, deliveryID: message.deliveryID,
                                       values: TemplateValues.from(message.context), logger: logger)
        }
        return try await gateway.send(to: message.recipient, body: body, deliveryID: message.deliveryID, logger: logger)
    }
}

/// Spaces sends at least `interval` seconds apart, across every sender that shares it.
final class Pacer: Sendable {
    private let interval: Duration
    private let next = Mutex<ContinuousClock.Instant?>(nil)

    init(interval: Double) { self.interval = .milliseconds(Int64((interval * 1000).rounded(.up))) }

    /// Waits for this send's turn.
    func wait() async {
        let now = ContinuousClock.now
        let slot = next.withLock { next -> ContinuousClock.Instant in
            let slot = Swift.max(next ?? now, now)
            next = slot + interval
            return slot
        }
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}

/// The text of a business's SMS for an incident event: its own templates or the short defaults in
/// `channels/sms/`, with the variables of every channel (`name` is the customer's).
public struct SMSText: Sendable {
    private let opened: TemplateRenderer
    private let resolved: TemplateRenderer

    /// - Throws: when a template file cannot be read or parsed.
    public init(_ refs: TemplateRefs) throws(TemplateRenderer.Problem) {
        opened = try Self.template(refs.opened, builtin: "sms/opened")
        resolved = try Self.template(refs.resolved, builtin: "sms/resolved")
    }

    static func template(_ path: String?, builtin: String) throws(TemplateRenderer.Problem) -> TemplateRenderer {
        if let path { return try TemplateRenderer.file(path) }
        return try TemplateRenderer.builtin(builtin)
    }

    /// The text, without leading or trailing space.
    public func render(_ context: MessageContext) -> String {
        let template = context.event == .resolved ? resolved : opened
        let text = template.render(TemplateValues.from(context)).trimmingCharacters(in: .whitespacesAndNewlines)
        return context.event == .test ? "[Test] " + text : text
    }
}

/// The numbers that replied STOP, from a policy's `stop_file` (one a line, `#` comments), read
/// again whenever the file changes, so a STOP is honoured from the next text on.
public final class StopList: Sendable {
    public static let shared = StopList()
    private struct Entry { var modified: Date; var size: Int; var numbers: Set<String> }
    private let cache = Mutex<[String: Entry]>([:])

    public func numbers(_ path: String?) -> Set<String> {
        guard let path, let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let modified = attributes[.modificationDate] as? Date else { return [] }
        let size = (attributes[.size] as? Int) ?? 0
        if let hit = cache.withLock({ $0[path] }), hit.modified == modified, hit.size == size { return hit.numbers }
        guard size <= 16 << 20, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var numbers = Set<String>()
        for line in text.split(whereSeparator: \.isNewline) {
            let entry = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if let number = PhoneNumber(String(entry)) { numbers.insert(number.e164) }
        }
        cache.withLock { $0[path] = Entry(modified: modified, size: size, numbers: numbers) }
        return numbers
    }
}
