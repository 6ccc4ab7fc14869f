/// Quoted-printable transfer encoding (RFC 2045 §6.7) for UTF-8 text bodies: CRLF line ends,
/// encoded lines of at most 76 characters, so no line comes near SMTP's 998-octet limit.
enum QuotedPrintable {
    static let maxLineLength = 76

    /// Encodes `text`; any of CRLF, CR or LF in it becomes a hard line break (CRLF).
    static func encode(_ text: String) -> String {
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return normalised.split(separator: "\n", omittingEmptySubsequences: false)
            .map { encodeLine(Array($0.utf8)) }
            .joined(separator: "\r\n")
    }

    private static let hex = Array("0123456789ABCDEF".utf8)

    private static func escaped(_ byte: UInt8) -> [UInt8] {
        [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
    }

    /// One line without its line break, split with soft breaks (`=` CRLF) so each piece is ≤ 76 characters.
    /// A soft break never falls inside a UTF-8 character.
    private static func encodeLine(_ bytes: [UInt8]) -> String {
        var tokens: [[UInt8]] = []
        for (i, byte) in bytes.enumerated() {
            let isLast = i == bytes.count - 1
            let literal: Bool
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                literal = !isLast  // trailing white space would be stripped in transit
            case UInt8(ascii: "="):
                literal = false
            case 33...126:
                // "From " at the start of a line is mangled by some mbox tools; a leading "." by some relays.
                literal = !(i == 0 && (byte == UInt8(ascii: ".") || (byte == UInt8(ascii: "F") && bytes.starts(with: Array("From ".utf8)))))
            default:
                literal = false
            }
            let token = literal ? [byte] : escaped(byte)
            // Keep a UTF-8 character's bytes on one line, so a soft break never splits it.
            if byte & 0xC0 == 0x80, !tokens.isEmpty { tokens[tokens.count - 1] += token } else { tokens.append(token) }
        }
        var out: [UInt8] = []
        var length = 0
        for token in tokens {
            // Leave room for the "=" of a soft line break.
            if length + token.count > maxLineLength - 1 {
                out += Array("=\r\n".utf8)
                length = 0
            }
            out += token
            length += token.count
        }
        return String(decoding: out, as: UTF8.self)
    }
}
