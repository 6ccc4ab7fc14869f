/// A reply from an SMTP server: its code and text, e.g. 250 "2.0.0 Ok: queued as 4F2A".
/// A multi-line reply's lines are joined with "\n".
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var text: String

    public init(code: Int, text: String) {
        self.code = code
        self.text = text
    }

    public var description: String { "\(code) \(text)" }
}

/// Collects the server's reply lines ("250-first", "250 last") into whole replies.
struct SMTPReplyReader {
    private var lines: [String] = []
    /// The start of a line whose end has not arrived yet (`feedStream`).
    private var partial: [UInt8] = []
    /// Every complete reply, oldest first.
    private(set) var replies: [SMTPReply] = []

    /// Feeds one chunk of what the server sent; it may hold several lines.
    mutating func feed(_ text: String) {
        var text = text
        text.withUTF8 { feed(UnsafeRawBufferPointer($0)) }
    }

    /// Feeds one chunk of what the server sent, as bytes; it may hold several lines.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            var end = start
            while end < bytes.endIndex && bytes[end] != UInt8(ascii: "\n") && bytes[end] != UInt8(ascii: "\r") { end += 1 }
            if end > start { line(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) }
            start = end + 1
        }
    }

    /// Feeds bytes read from a connection, where a line may be split between reads: a line is
    /// only taken once its line feed has arrived.
    mutating func feedStream(_ bytes: UnsafeRawBufferPointer) {
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if partial.isEmpty {
                feed(UnsafeRawBufferPointer(rebasing: bytes[start..<newline]))
            } else {
                partial.append(contentsOf: bytes[start..<newline])
                partial.withUnsafeBytes { feed($0) }
                partial.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
        if start < bytes.endIndex {
            guard partial.count < 4096 else { return }  // a line no server sends; drop the excess
            partial.append(contentsOf: bytes[start...])
        }
    }

    /// Hands over the complete replies collected so far, forgetting them.
    mutating func take() -> [SMTPReply] {
        defer { replies.removeAll(keepingCapacity: true) }
        return replies
    }

    private mutating func line(_ line: UnsafeRawBufferPointer) {
        guard line.count >= 3 else { return }
        var code = 0
        for byte in line.prefix(3) {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return }
            code = code * 10 + Int(byte - UInt8(ascii: "0"))
        }
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        lines.append(line.count > 4 ? String(decoding: UnsafeRawBufferPointer(rebasing: line[4...]), as: UTF8.self) : "")
        if separator != UInt8(ascii: "-") {
            replies.append(SMTPReply(code: code, text: lines.count == 1 ? lines[0] : lines.joined(separator: "\n")))
            lines.removeAll(keepingCapacity: true)
        }
    }
}
