import Foundation

/// Where the CLI writes: results to stdout, problems to stderr.
enum Output {
    static func line(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
    static func error(_ message: String, hint: String? = nil) {
        var text = "error: \(message)\n"
        if let hint { text += "  hint: \(hint)\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }
    static func progress(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    static func ago(_ date: Date, now: Date = Date()) -> String {
        let s = max(0, Int(now.timeIntervalSince(date)))
        if s < 60 { return "\(s)s ago" }
        if s < 3600 { return "\(s / 60)m\(s % 60 == 0 ? "" : "\(s % 60)s") ago" }
        if s < 86400 { return "\(s / 3600)h\((s % 3600) / 60)m ago" }
        return "\(s / 86400)d\((s % 86400) / 3600)h ago"
    }

    static func time(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// Left-aligned columns.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
        for row in all {
            line(row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
    }
}
