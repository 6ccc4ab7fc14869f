/// How to reach and talk to one SMTP server: address, TLS, login and time limits. Shared by
/// every connection of an `SMTPConnectionPool`. Printing it never shows the password.
public struct SMTPSettings: Sendable, CustomStringConvertible, CustomReflectable {
    /// Whether a plain `smtp://` connection must upgrade with STARTTLS.
    public enum StartTLS: String, Sendable {
        /// Upgrade or fail: a server that does not offer STARTTLS is an error, never a downgrade.
        case required
        /// Upgrade when the server offers it, else send in the clear.
        case optional
        /// Never upgrade.
        case off
    }

    /// `smtp://host:port` (STARTTLS per `startTLS`) or `smtps://host:port` (TLS from the start).
    /// A path names the EHLO domain: `smtp://mail.example.com:587/detour.example.org`.
    public var url: String
    public var startTLS: StartTLS
    /// Login for AUTH; no AUTH is attempted when nil. When set, a server whose EHLO offers no AUTH
    /// is an error at connect, never a send without the login.
    public var username: String?
    public var password: String?
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// Verify the server's certificate and host name. Turn off only when a policy says so.
    public var verifyTLS: Bool
    /// The limit for connecting (TCP, greeting, TLS and login).
    public var connectTimeout: Duration
    /// The limit for sending one message, connecting included.
    public var timeout: Duration

    public init(url: String, startTLS: StartTLS = .required, username: String? = nil, password: String? = nil,
                caFile: String? = nil, verifyTLS: Bool = true,
                connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(60)) {
        self.url = url
        self.startTLS = startTLS
        self.username = username
        self.password = password
        self.caFile = caFile
        self.verifyTLS = verifyTLS
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    public var description: String {
        "SMTPSettings(url: \(redactedURL(url)), startTLS: \(startTLS), username: \(username ?? "none"), "
            + "password: \(password == nil ? "none" : "<redacted>"), verifyTLS: \(verifyTLS))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["description": description], displayStyle: .struct)
    }
}
