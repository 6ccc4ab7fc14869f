/// A secret value (password, webhook signing secret, a URL with a token in it) resolved when files load.
///
/// It never prints: `description`, `debugDescription` and its encoded form show only where it came from.
public struct Secret: Sendable, Hashable, Codable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Where the value was read from, safe to show: `env:SMTP_PASSWORD`, `file:/etc/detour/smtp.pass`, `inline`.
    public let origin: String
    private let value: String

    public init(_ value: String, origin: String) { self.value = value; self.origin = origin }

    /// The secret itself, for the one place that must use it (an SMTP login, an HMAC key).
    public func reveal() -> String { value }

    public var description: String { "<secret from \(origin)>" }
    public var debugDescription: String { description }

    public init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "secrets are never decoded from stored data"))
    }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}
