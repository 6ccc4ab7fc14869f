import DetourCore
import DetourTransport
import Foundation
import Logging
import Synchronization

/// The `sms` channel: renders one business's text for an incident event (its template, or the
/// short default in `channels/sms/`) and sends it to one customer's phone through the provider.
public struct SMSSender: Channel {
    private let provider: TwilioSMS
    private let texts: SMSText
    private let logger: Logger

    /// - Throws: when a template file the policy names cannot be read or parsed.
    public init(settings: SMSChannel, network: WebhookNetwork, client: CurlHTTPClient, logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }) throws(TemplateRenderer.Problem) {
        switch settings.provider {
        case .twilio(let t):
            provider = TwilioSMS(settings: .init(baseURL: t.baseURL, accountSID: t.accountSID, authToken: t.authToken, from: t.from,
                                                 messagingServiceSID: t.messagingServiceSID, timeout: network.timeout.duration,
                                                 allowPrivateTargets: network.allowPrivateTargets), client: client, now: now)
        }
        texts = try SMSText(settings.templates)
        self.logger = logger
    }

    public func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt {
        let body = texts.render(message.context)
        guard !body.isEmpty else {
            throw DeliveryError(code: "sms.empty", message: "sms to \(message.recipient): the template renders an empty text", retryable: false)
        }
        return try await provider.send(to: message.recipient, body: body, logger: logger)
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
