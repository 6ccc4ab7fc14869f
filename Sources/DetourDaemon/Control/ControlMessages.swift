import Foundation

/// How requests and responses travel: one JSON object per line, one request per connection.
/// Dates are ISO 8601, as in the CLI's `--json` output.
enum ControlWire {
    /// The largest request the daemon reads.
    static let maxRequestBytes = 1 << 20
    /// The largest response the client reads (listings of deliveries can be long).
    static let maxResponseBytes = 64 << 20

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }

    static func decode<T: Decodable>(_ type: T.Type, from line: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: line)
    }

    /// A decoding error in a few words, naming the key: `missing "reason"`, `"limit": expected Int`.
    /// Keys are named from inside `root` (`arguments`, `result`) when the error lies there.
    static func describe(_ error: any Error, under root: String? = nil) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let inside = keys.first?.stringValue == root ? Array(keys.dropFirst()) : keys
            return inside.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            let at = path(context.codingPath)
            return "missing \"\(at.isEmpty ? "" : at + ".")\(key.stringValue)\""
        case .typeMismatch(let type, let context)?, .valueNotFound(let type, let context)?:
            return "\"\(path(context.codingPath))\": expected \(type)"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? context.debugDescription : "\"\(path(context.codingPath))\": \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
