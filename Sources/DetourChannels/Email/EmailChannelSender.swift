import DetourCore
import DetourTransport
import Foundation
import Logging

/// The email channel: renders one email per customer from the policy's templates and hands it to
/// the business's SMTP server. Each message keeps the delivery id as its Message-ID, so a retry is
/// recognisably the same email.
public struct EmailChannelSender: Channel {
    private let settings: EmailChannel
    private let serverName: String
    private let pool: SMTPConnectionPool
    private let templates: [MessageEvent: Result<EmailTemplates, TemplateRenderer.Problem>]
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// - Parameters:
    ///   - settings: the policy's `channels.email`.
    ///   - server: the SMTP server it names (for messages; the pool does the talking).
    ///   - pool: the connection pool for that server, shared by every channel that uses it.
    ///   - now: the clock for the Date header.
    public init(settings: EmailChannel, server: SMTPServer, pool: SMTPConnectionPool,
                now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.settings = settings
        self.serverName = server.name
        self.pool = pool
        self.now = now
        self.logger = logger
        var loaded: [MessageEvent: Result<EmailTemplates, TemplateRenderer.Problem>] = [:]
        for event in MessageEvent.allCases {
            do {
                loaded[event] = .success(try EmailTemplates.forEvent(event, refs: settings.templates))
            } catch {
                // Kept, not thrown: a broken all-clear template must not stop outage emails.
                loaded[event] = .failure(error)
                logger.error("email template cannot be used", metadata: [
                    "email.event": "\(event.rawValue)", "template.problem": "\(error)",
                ])
            }
        }
        templates = loaded
    }

    /// Renders and sends one email to `message.recipient` (an address); the context carries the name.
    public func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt {
        let context = message.context
        // Only for error messages: built when one is needed.
        var label: String { Self.label(business: context.businessID, server: serverName, recipient: message.recipient) }
        let rendered: RenderedEmail
        switch templates[context.event] ?? .failure(.init(source: "email/\(context.event.rawValue)", message: "no templates")) {
        case .success(let t): rendered = t.render(context)
        case .failure(let problem):
            throw DeliveryError(code: "email.template", message: "\(label): \(problem)", retryable: false)
        }
        let email = EmailMessage(
            from: settings.from, to: Mailbox(name: context.recipientName, address: message.recipient),
            replyTo: settings.replyTo, subject: rendered.subject, text: rendered.text, html: rendered.html,
            deliveryID: message.deliveryID, date: now(), unsubscribeURL: context.unsubscribeURL)
        let data: Data
        do {
            data = try EmailMessageBuilder.build(email)
        } catch {
            throw DeliveryError(code: "email.address", message: "\(label): \(error)", retryable: false)
        }
        do {
            let reply = try await pool.send(from: settings.from.address, to: [message.recipient], message: data)
            logger.debug("email accepted", metadata: [
                "delivery.id": "\(message.deliveryID)", "smtp.server": "\(serverName)", "smtp.code": "\(reply.code)",
            ])
            return DeliveryReceipt(reply: reply.description)
        } catch {
            // A refusal at RCPT TO already names the recipient (or quotes the reply that does).
            let named = Self.label(business: context.businessID, server: serverName,
                                   recipient: error.recipient == nil ? message.recipient : nil)
            throw Self.deliveryError(error, label: named)
        }
    }

    /// Names the email in an error: its business, the SMTP server by its name in `detour.yaml`, and
    /// the recipient unless what follows already names it.
    static func label(business: String, server: String, recipient: String?) -> String {
        var text = "email for '\(HeaderEncoding.sanitised(business))' via SMTP server '\(server)'"
        if let recipient { text += " to \(HeaderEncoding.sanitised(recipient))" }
        return text
    }

    /// How an SMTP failure is reported to the delivery worker: a stable code, the label and the
    /// transport's message (the server's address, the command and its reply), each said once.
    static func deliveryError(_ error: SMTPError, label: String) -> DeliveryError {
        let code: String = switch error.kind {
        case .rejected: error.retryable ? "smtp.temporary" : "smtp.rejected"
        case .authenticationFailed, .authenticationUnavailable: "smtp.auth"
        case .startTLSUnavailable: "smtp.starttls"
        case .tlsFailure: "smtp.tls"
        case .connectFailure, .connectionLost: "smtp.connection"
        case .timeout: "smtp.timeout"
        case .cancelled: "smtp.cancelled"
        case .invalidRequest: "smtp.invalid"
        default: "smtp.error"
        }
        return DeliveryError(code: code, message: "\(label): \(error.message)", retryable: error.retryable)
    }
}
