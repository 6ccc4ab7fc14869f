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
    /// Every complete reply, oldest first.
    private(set) var replies: [SMTPReply] = []

    /// Feeds one chunk of what the server sent; it may hold several lines.
    mutating func feed(_ text: String) {
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
            let line = String(raw)
            guard line.count >= 3, let lineCode = Int(line.prefix(3)) else { continue }
            let separator = line.dropFirst(3).first
            lines.append(String(line.dropFirst(4)))
            if separator != "-" {
                replies.append(SMTPReply(code: lineCode, text: lines.joined(separator: "\n")))
                lines.removeAll()
            }
        }
    }
}
