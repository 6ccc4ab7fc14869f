import Foundation
import Logging

/// One connection to an SMTP server that sends messages one at a time and stays open between
/// them, so a batch does not pay for a new TCP, TLS and AUTH exchange per message: a pool of one.
/// Messages sent while one is in flight wait their turn.
public final class SMTPConnection: Sendable {
    public let settings: SMTPSettings
    private let pool: SMTPConnectionPool

    /// - Parameter logger: where per-message debug lines go (never with the password or message text).
    public init(settings: SMTPSettings, logger: Logger) {
        self.settings = settings
        pool = SMTPConnectionPool(settings: settings, maxConnections: 1, logger: logger)
    }

    /// Sends `message` (a complete RFC 5322 message with CRLF line ends) from `from` to `to`,
    /// and returns the server's reply to the end of DATA. Throws when the server did not accept
    /// it for every recipient. Cancelling the calling task abandons the message at once.
    public func send(from: String, to recipients: [String], message: Data) async throws(SMTPError) -> SMTPReply {
        try await pool.send(from: from, to: recipients, message: message)
    }

    /// Says goodbye to the server and frees the connection; later sends fail as `.cancelled`.
    public func close() async {
        await pool.close()
    }
}
