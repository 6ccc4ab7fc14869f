import Foundation

/// A configuration file's text, read with limits so hostile files fail cleanly:
/// at most `maxBytes`, valid UTF-8, no NUL bytes, no tabs in indentation, bounded nesting.
struct SourceText {
    static let maxBytes = 1 << 20
    static let maxIndent = 200

    let path: String
    let text: String
    let bytes: Data

    /// Reads `path`, or reports why it cannot be used and returns nil.
    static func read(_ path: String, diagnostics: Diagnostics, maxBytes: Int = SourceText.maxBytes) -> SourceText? {
        if let problem = FileKind.notRegular(path) {
            diagnostics.error(path, 0, 0, "", "the file \(problem)", hint: "check the path")
            return nil
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            diagnostics.error(path, 0, 0, "", exists ? "cannot read the file (permission denied?)" : "no such file",
                              hint: exists ? "make it readable by the user detour runs as" : "check the path")
            return nil
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        if data.count > maxBytes {
            diagnostics.error(path, 0, 0, "", "file is larger than \(maxBytes / 1024) KiB",
                              hint: "Detour files are small; is this the right file?")
            return nil
        }
        if let nul = data.firstIndex(of: 0) {
            let (line, col) = position(of: nul, in: data)
            diagnostics.error(path, line, col, "", "file contains a NUL byte: this is binary, not YAML", hint: "check the path")
            return nil
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            let bad = firstInvalidUTF8(data)
            let (line, col) = position(of: bad, in: data)
            diagnostics.error(path, line, col, "", "file is not valid UTF-8", hint: "save the file as UTF-8")
            return nil
        }
        let source = SourceText(path: path, text: text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text, bytes: data)
        return source.checkLayout(diagnostics) ? source : nil
    }

    /// Tabs in indentation and absurd indentation depth are refused before the YAML parser sees them.
    private func checkLayout(_ diagnostics: Diagnostics) -> Bool {
        var ok = true
        var lineNo = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            var col = 0
            var reported = false
            for u in line.utf8 {
                if u == UInt8(ascii: " ") || u == UInt8(ascii: "-") || u == UInt8(ascii: "?") { col += 1; continue }
                if u == UInt8(ascii: "\t") {
                    diagnostics.error(path, lineNo, col + 1, "", "tab character in indentation",
                                      hint: "YAML indents with spaces only; replace the tab with spaces")
                    ok = false
                    reported = true
                }
                break
            }
            if !reported, col > Self.maxIndent {
                diagnostics.error(path, lineNo, 1, "", "nesting is too deep (indented \(col) columns)",
                                  hint: "Detour files need only a few levels")
                return false
            }
        }
        return ok
    }

    static func position(of offset: Int, in data: Data) -> (Int, Int) {
        var line = 1, col = 1
        for b in data.prefix(offset) {
            if b == 0x0a { line += 1; col = 1 } else if b & 0xC0 != 0x80 { col += 1 }
        }
        return (line, col)
    }

    private static func firstInvalidUTF8(_ data: Data) -> Int {
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            let b = bytes[offset]
            let len: Int
            switch b {
            case 0x00...0x7F: len = 1
            case 0xC2...0xDF: len = 2
            case 0xE0...0xEF: len = 3
            case 0xF0...0xF4: len = 4
            default: return offset
            }
            if offset + len > bytes.count { return offset }
            for k in 1..<len where bytes[offset + k] & 0xC0 != 0x80 { return offset }
            if len > 1, String(validating: bytes[offset..<offset + len], as: UTF8.self) == nil { return offset }
            offset += len
        }
        return offset
    }
}
