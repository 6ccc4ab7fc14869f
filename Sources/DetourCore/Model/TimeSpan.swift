/// A length of time as people write it in Detour files: `500ms`, `90s`, `2m`, `1h30m`, `1d`.
///
/// Stored in milliseconds; encodes to and from the same text form.
public struct TimeSpan: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func milliseconds(_ ms: Int64) -> TimeSpan { .init(milliseconds: ms) }
    public static func seconds(_ s: Int64) -> TimeSpan { .init(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> TimeSpan { .init(milliseconds: m * 60_000) }
    public static func hours(_ h: Int64) -> TimeSpan { .init(milliseconds: h * 3_600_000) }
    public static let zero = TimeSpan(milliseconds: 0)

    public var duration: Duration { .milliseconds(milliseconds) }
    public var seconds: Double { Double(milliseconds) / 1000 }
    public static func < (a: Self, b: Self) -> Bool { a.milliseconds < b.milliseconds }

    private static let units: [(suffix: String, ms: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// Parses `90s`, `2m`, `1h30m`, `250ms`, `1d12h`. Units must go from larger to smaller and appear once.
    /// Returns nil for anything else, including a bare number (a unit is required, so `30` is never ambiguous).
    public init?(parsing text: String) {
        let s = text.trimmingSpaces()
        guard !s.isEmpty, s.utf8.count <= 40 else { return nil }
        var total: Int64 = 0
        var lastUnitIndex = -1
        var i = s.unicodeScalars.startIndex
        let scalars = s.unicodeScalars
        while i < scalars.endIndex {
            var digits = ""
            while i < scalars.endIndex, ("0"..."9").contains(scalars[i]) { digits.unicodeScalars.append(scalars[i]); i = scalars.index(after: i) }
            var unit = ""
            while i < scalars.endIndex, ("a"..."z").contains(scalars[i]) { unit.unicodeScalars.append(scalars[i]); i = scalars.index(after: i) }
            guard !digits.isEmpty, digits.count <= 12, let n = Int64(digits),
                  let idx = Self.units.firstIndex(where: { $0.suffix == unit }), idx > lastUnitIndex else { return nil }
            lastUnitIndex = idx
            let (product, overflow1) = n.multipliedReportingOverflow(by: Self.units[idx].ms)
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow1, !overflow2 else { return nil }
            total = sum
        }
        self.milliseconds = total
    }

    /// The shortest text form that parses back to the same value (`1h30m`, `90s` → `1m30s`).
    public var description: String {
        if milliseconds == 0 { return "0s" }
        var rest = milliseconds
        var out = ""
        for (suffix, ms) in Self.units where rest >= ms {
            out += "\(rest / ms)\(suffix)"
            rest %= ms
        }
        return out
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let v = TimeSpan(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a duration: \(text)"))
        }
        self = v
    }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
