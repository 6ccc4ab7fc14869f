import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SMTPSession {
    /// Appends `message` as DATA content (RFC 5321 4.5.2): a `.` opening a line is doubled, the
    /// last line ends with CRLF, and the content ends with `.` on a line of its own.
    ///
    /// Lines are found with `memchr` and copied whole: every message of a fan-out passes here, and
    /// the messages Detour builds never start a line with a dot, so there is rarely anything to add.
    static func appendDotStuffed(_ message: Data, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + message.count + 8)
        message.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            let count = bytes.count
            var runStart = 0
            var lineStart = 0
            while lineStart < count {
                if bytes[lineStart] == UInt8(ascii: ".") {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<lineStart]))
                    out.append(UInt8(ascii: "."))
                    runStart = lineStart
                }
                guard let newline = memchr(base + lineStart, 0x0A, count - lineStart) else { break }
                lineStart = base.distance(to: UnsafeRawPointer(newline)) + 1
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
            let endsWithCRLF = count >= 2 && bytes[count - 2] == 0x0D && bytes[count - 1] == 0x0A
            if !endsWithCRLF { out.append(contentsOf: [0x0D, 0x0A]) }
        }
        out.append(contentsOf: [UInt8(ascii: "."), 0x0D, 0x0A])
    }
}
