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

    /// Left-aligned columns within `width` columns, for listings whose cells can be long. While a
    /// row would be wider, the widest column loses a character (not below its header's width); a
    /// cell cut short ends in "…". A row's note, when it has one, follows it on lines of its own,
    /// indented by 4 and wrapped at word boundaries.
    static func table(_ header: [String], _ rows: [(cells: [String], note: String?)], width: Int) {
        var widths = header.indices.map { i in ([header] + rows.map(\.cells)).map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
        let gaps = 2 * max(0, header.count - 1)
        while widths.reduce(gaps, +) > width,
              let widest = widths.indices.filter({ widths[$0] > max(header[$0].count, 4) }).max(by: { widths[$0] < widths[$1] }) {
            widths[widest] -= 1
        }
        func cut(_ cell: String, _ width: Int) -> String {
            cell.count <= width ? cell : String(cell.prefix(max(0, width - 1))) + "…"
        }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let text = cut(cell, widths[i])
                return i == cells.count - 1 ? text : text.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        line(render(header))
        for row in rows {
            line(render(row.cells))
            if let note = row.note, !note.isEmpty {
                for part in wrap(note, width: width - 4) { line("    " + part) }
            }
        }
    }

    /// `text` in lines of at most `width` characters, broken at spaces (a longer word is cut).
    static func wrap(_ text: String, width: Int) -> [String] {
        let width = max(1, width)
        var lines: [String] = []
        var current = ""
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            var word = Substring(word)
            while word.count > width {
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(word.prefix(width)))
                word = word.dropFirst(width)
            }
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
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
