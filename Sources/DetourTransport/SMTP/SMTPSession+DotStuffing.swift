import Foundation

extension SMTPSession {
    /// Appends `message` as DATA content (RFC 5321 4.5.2): a `.` opening a line is doubled, the
    /// last line ends with CRLF, and the content ends with `.` on a line of its own.
    static func appendDotStuffed(_ message: Data, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + message.count + 8)
        message.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var lineStart = true
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if lineStart && byte == UInt8(ascii: ".") {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                    out.append(UInt8(ascii: "."))
                    runStart = index
                }
                lineStart = byte == UInt8(ascii: "\n")
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
            let endsWithCRLF = bytes.count >= 2 && bytes[bytes.count - 2] == 0x0D && bytes[bytes.count - 1] == 0x0A
            if !endsWithCRLF && !bytes.isEmpty { out.append(contentsOf: [0x0D, 0x0A]) }
        }
        out.append(contentsOf: [UInt8(ascii: "."), 0x0D, 0x0A])
    }
}
