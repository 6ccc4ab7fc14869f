/// Why a message was not accepted by the SMTP server, and whether trying again later may help.
/// The text never contains the password, and names the server only as `scheme://host:port/`.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this was; compare with the static members.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ name: String) { description = name }

        /// The server answered a command with a 4xx or 5xx reply (see `code` and `reply`).
        public static let rejected = Kind("rejected")
        /// The server refused the login.
        public static let authenticationFailed = Kind("authenticationFailed")
        /// A username is set but the server did not offer AUTH, so no login happened.
        public static let authenticationUnavailable = Kind("authenticationUnavailable")
        /// STARTTLS was required but the server does not offer it.
        public static let startTLSUnavailable = Kind("startTLSUnavailable")
        /// The TLS handshake or certificate verification failed.
        public static let tlsFailure = Kind("tlsFailure")
        /// The server could not be resolved or reached.
        public static let connectFailure = Kind("connectFailure")
        /// The time limit passed.
        public static let timeout = Kind("timeout")
        /// The connection broke mid-conversation.
        public static let connectionLost = Kind("connectionLost")
        /// The addresses or settings cannot be used as given (line breaks in an address, bad URL).
        public static let invalidRequest = Kind("invalidRequest")
        /// The calling task was cancelled or the connection closed; the message was not accepted.
        public static let cancelled = Kind("cancelled")
        /// Anything else; see `message`.
        public static let other = Kind("other")
    }

    public var kind: Kind
    /// The SMTP reply code that ended the attempt, when the server gave one.
    public var code: Int?
    /// The server's reply text for `code` (empty when there was none).
    public var reply: String
    /// True when sending the same message later may succeed (4xx replies, network trouble);
    /// false for permanent refusals (5xx replies, bad login, missing STARTTLS, bad certificate).
    public var retryable: Bool
    /// The recipient the server refused, when it refused one at RCPT TO.
    public var recipient: String?
    /// A sentence for people: the server, what it was asked and its reply (code and text), each once.
    public var message: String

    public init(kind: Kind, code: Int? = nil, reply: String = "", retryable: Bool, recipient: String? = nil,
                message: String) {
        self.kind = kind
        self.code = code
        self.reply = reply
        self.retryable = retryable
        self.recipient = recipient
        self.message = message
    }

    /// The kind, the message and whether it is retryable. The message already carries the
    /// server's reply, so the reply is not repeated.
    public var description: String {
        "\(kind): \(message)" + (retryable ? " (retryable)" : " (permanent)")
    }

    /// Whether a reply code is worth retrying: 4xx yes, 5xx no.
    static func isRetryable(code: Int) -> Bool { (400..<500).contains(code) }
}
