import Foundation

/// One command sent to the daemon over the control socket: `detour override set …` becomes
/// `command: "override.set"` with its options as `arguments`. What commands exist and what their
/// arguments mean is up to the handler; this type only carries them.
public struct ControlRequest: Codable, Sendable, Hashable {
    public var command: String
    public var arguments: [String: String]

    public init(command: String, arguments: [String: String] = [:]) {
        self.command = command
        self.arguments = arguments
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decode(String.self, forKey: .command)
        arguments = try container.decodeIfPresent([String: String].self, forKey: .arguments) ?? [:]
    }
}

/// The daemon's answer to one `ControlRequest`.
public struct ControlResponse: Codable, Sendable, Hashable {
    public var ok: Bool
    /// What went wrong, in a sentence a person can act on. Nil when `ok`.
    public var error: String?
    /// What to try next (`run detour policy check`), when there is something to say.
    public var hint: String?
    /// What the command produced: JSON or text, as the handler chose.
    public var body: String?

    public init(ok: Bool, error: String? = nil, hint: String? = nil, body: String? = nil) {
        self.ok = ok; self.error = error; self.hint = hint; self.body = body
    }

    /// A successful answer carrying `body`.
    public static func success(_ body: String? = nil) -> ControlResponse {
        ControlResponse(ok: true, body: body)
    }

    /// A refusal or failure, with what to try next.
    public static func failure(_ error: String, hint: String? = nil) -> ControlResponse {
        ControlResponse(ok: false, error: error, hint: hint)
    }
}

/// How requests and responses travel: one JSON object per line, one request per connection.
enum ControlWire {
    /// The largest request the daemon reads.
    static let maxRequestBytes = 1 << 20
    /// The largest response the client reads (listings of deliveries can be long).
    static let maxResponseBytes = 64 << 20

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }

    static func decode<T: Decodable>(_ type: T.Type, from line: Data) throws -> T {
        try JSONDecoder().decode(type, from: line)
    }
}
