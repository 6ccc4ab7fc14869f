/// Quoted-printable transfer encoding (RFC 2045 §6.7) for UTF-8 text bodies: CRLF line ends,
/// encoded lines of at most 76 characters, so no line comes near SMTP's 998-octet limit.
/// Works on bytes in one pass: it runs once per email, for every customer of a fan-out.
enum QuotedPrintable {
    static let maxLineLength = 76

    /// Encodes `text`; any of CRLF, CR or LF in it becomes a hard line break (CRLF).
    static func encode(_ text: String) -> String {
        var out: [UInt8] = []
        encode(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the encoding of `text` to `out`.
    static func encode(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            // Worst case: every byte escaped (3), a soft break every 25 escapes, CR or LF doubled.
            let bound = bytes.count * 6 + 16
            let encoded = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
                var writer = Writer(buffer: buffer)
                var lineStart = 0
                var i = 0
                while i < bytes.count {
                    let byte = bytes[i]
                    if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                        encodeLine(UnsafeBufferPointer(rebasing: bytes[lineStart..<i]), into: &writer)
                        writer.put(UInt8(ascii: "\r"))
                        writer.put(UInt8(ascii: "\n"))
                        i += (byte == UInt8(ascii: "\r") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n")) ? 2 : 1
                        lineStart = i
                    } else {
                        i += 1
                    }
                }
                encodeLine(UnsafeBufferPointer(rebasing: bytes[lineStart..<bytes.count]), into: &writer)
                count = writer.count
            }
            out.append(contentsOf: encoded)
        }
    }

    /// Writes into a buffer sized for the worst case, so no byte needs a capacity check.
    private struct Writer {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        var count = 0

        @inline(__always)
        mutating func put(_ byte: UInt8) {
            buffer[count] = byte
            count += 1
        }

        @inline(__always)
        mutating func putEscaped(_ byte: UInt8) {
            buffer[count] = UInt8(ascii: "=")
            buffer[count + 1] = Self.hexDigit(byte >> 4)
            buffer[count + 2] = Self.hexDigit(byte & 0x0F)
            count += 3
        }

        /// 0-9, A-F (computed: a table in a static would cost a lazy-initialisation check per byte).
        @inline(__always)
        static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 0x30 + value : 0x37 + value }
    }

    private static let from: [UInt8] = Array("From ".utf8)

    /// One line without its line break, split with soft breaks (`=` CRLF) so each piece is ≤ 76
    /// characters. A soft break never falls inside a UTF-8 character.
    private static func encodeLine(_ line: UnsafeBufferPointer<UInt8>, into out: inout Writer) {
        var length = 0  // characters on the current output line
        var i = 0
        while i < line.count {
            let byte = line[i]
            // Plain ASCII, the usual case: one byte, one character.
            if byte < 0x80 {
                let literal: Bool
                if byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=") {
                    literal = i != 0 || isLiteral(line, at: i)
                } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                    literal = i != line.count - 1  // trailing white space would be stripped in transit
                } else {
                    literal = false
                }
                let width = literal ? 1 : 3
                if length + width > maxLineLength - 1 { softBreak(&out); length = 0 }
                if literal { out.put(byte) } else { out.putEscaped(byte) }
                length += width
                i += 1
                continue
            }
            // A UTF-8 character: its bytes (all escaped) stay on one line.
            var end = i + 1
            while end < line.count && line[end] & 0xC0 == 0x80 { end += 1 }
            let width = 3 * (end - i)
            if length + width > maxLineLength - 1 { softBreak(&out); length = 0 }
            for j in i..<end { out.putEscaped(line[j]) }
            length += width
            i = end
        }
    }

    @inline(__always)
    private static func softBreak(_ out: inout Writer) {
        out.put(UInt8(ascii: "="))
        out.put(UInt8(ascii: "\r"))
        out.put(UInt8(ascii: "\n"))
    }

    /// Whether the ASCII byte at `index` of a line may go out as itself.
    @inline(__always)
    private static func isLiteral(_ line: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let byte = line[index]
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"):
            return index != line.count - 1  // trailing white space would be stripped in transit
        case UInt8(ascii: "="):
            return false
        case 33...126:
            // "From " at the start of a line is mangled by some mbox tools; a leading "." by some relays.
            guard index == 0 else { return true }
            if byte == UInt8(ascii: ".") { return false }
            return !(byte == UInt8(ascii: "F") && line.starts(with: from))
        default:
            return false
        }
    }
}
