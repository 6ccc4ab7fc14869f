/// What a text costs as SMS: its encoding and how many segments (billed messages) it takes.
///
/// GSM-7 (GSM 03.38) when every character is in the default alphabet or its extension table (each
/// extension character — `^ { } \ [ ~ ] |`, `€` and form feed — takes two septets); UCS-2 otherwise,
/// for the whole text, each character costing its UTF-16 units (an emoji: two). One segment holds
/// 160 septets or 70 units; a longer text is split into parts of 153 or 67 (the rest is the
/// concatenation header), never splitting a character, so a part may hold one less. The same rules
/// as the carriers' and Twilio's own segment calculator.
public struct SMSSegments: Sendable, Hashable {
    public enum Encoding: String, Sendable, Hashable, Codable {
        case gsm7 = "GSM-7"
        case ucs2 = "UCS-2"
    }

    public let encoding: Encoding
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    public let units: Int
    /// Segments the text is sent as; 0 for an empty text.
    public let segments: Int

    public init(_ text: String) {
        var costs: [Int] = []
        var gsm = true
        for character in text {
            if gsm, let cost = Self.gsmCost(character) {
                costs.append(cost)
            } else {
                gsm = false
                break
            }
        }
        if !gsm { costs = text.map { $0.utf16.count } }
        encoding = gsm ? .gsm7 : .ucs2
        units = costs.reduce(0, +)
        let (single, part) = gsm ? (160, 153) : (70, 67)
        if units == 0 {
            segments = 0
        } else if units <= single {
            segments = 1
        } else {
            var count = 1
            var used = 0
            for cost in costs {
                if used + cost > part { count += 1; used = 0 }
                used += cost
            }
            segments = count
        }
    }

    /// Septets for a character of the GSM 03.38 alphabet (1) or its extension table (2); nil outside both.
    static func gsmCost(_ c: Character) -> Int? {
        guard c.unicodeScalars.count == 1, let scalar = c.unicodeScalars.first else {
            return c == "\r\n" ? 2 : nil
        }
        if basic.contains(scalar) { return 1 }
        if extended.contains(scalar) { return 2 }
        return nil
    }

    /// The default alphabet (LF and CR included; ESC is not a character).
    static let basic: Set<Unicode.Scalar> = Set(("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars)
    /// The extension table: each is ESC plus one septet.
    static let extended: Set<Unicode.Scalar> = Set("^{}\\[~]|€\u{0C}".unicodeScalars)
}
