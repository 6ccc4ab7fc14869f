/// A phone number in E.164 form: `+`, a country code and the subscriber number, 8 to 15 digits in
/// all, the first not 0. Written forms people use — spaces, dashes, dots, parentheses, a leading
/// `00` for `+` — are accepted and normalised; anything else is refused.
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `+447700900123`.
    public let e164: String

    public init?(_ written: String) {
        var digits = ""
        var plus = false
        for c in written {
            switch c {
            case "+" where !plus && digits.isEmpty: plus = true
            case "0"..."9": digits.append(c)
            case " ", "-", ".", "(", ")", "\u{00A0}": continue
            default: return nil
            }
        }
        if !plus, digits.hasPrefix("00") { digits.removeFirst(2); plus = true }
        guard plus, (8...15).contains(digits.count), digits.first != "0" else { return nil }
        e164 = "+" + digits
    }

    public var description: String { e164 }
}
