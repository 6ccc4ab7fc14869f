/// A send rate such as `20/s`, `600/m` or `10000/h`.
public struct Rate: Hashable, Sendable, Codable, CustomStringConvertible {
    public let count: Int
    public let per: TimeSpan

    public init(count: Int, per: TimeSpan) { self.count = count; self.per = per }

    /// Events per second.
    public var perSecond: Double { Double(count) / per.seconds }

    /// Parses `N/s`, `N/m`, `N/h`, or `N/<duration>` such as `5/10s`.
    public init?(parsing text: String) {
        let parts = text.trimmingSpaces().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[0].trimmingSpaces()), n > 0 else { return nil }
        var unit = String(parts[1]).trimmingSpaces()
        if unit.first.map({ !$0.isNumber }) ?? false { unit = "1" + unit }
        guard let span = TimeSpan(parsing: unit), span.milliseconds > 0 else { return nil }
        self.count = n
        self.per = span
    }

    public var description: String {
        switch per {
        case .seconds(1): return "\(count)/s"
        case .minutes(1): return "\(count)/m"
        case .hours(1): return "\(count)/h"
        default: return "\(count)/\(per)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let v = Rate(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a rate: \(text)"))
        }
        self = v
    }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}
