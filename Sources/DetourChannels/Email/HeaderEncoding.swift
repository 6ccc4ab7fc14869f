import Foundation

/// Turns untrusted text into header field bodies that cannot break out of their header:
/// no CR, LF or other control character survives, non-ASCII text becomes RFC 2047 encoded-words,
/// and long values are folded into lines of at most 78 characters where the value allows it.
enum HeaderEncoding {
    /// Payload bytes per encoded-word: 39 bytes → 52 base64 characters, 64 with `=?UTF-8?B?` and `?=`,
    /// so a word fits on a folded line after any header name we write.
    static let bytesPerWord = 39
    /// Text beyond this many characters is cut from a subject or a display name.
    static let maxCharacters = 200

    /// Replaces control characters (CR, LF, TAB, NUL, DEL, C1) and Unicode line or paragraph separators
    /// with spaces, collapses runs of white space and trims the ends.
    static func sanitised(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            let v = scalar.value
            let isBreaking = v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029
            if isBreaking || scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.append(scalar)
        }
        var result = String(out)
        if result.count > maxCharacters { result = String(result.prefix(maxCharacters)) }
        return result
    }

    static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }

    /// An unstructured field body (Subject): plain ASCII folded at spaces, or encoded-words.
    /// `nameLength` is the length of `Name: ` so the first line stays within 78 characters.
    static func unstructured(_ raw: String, nameLength: Int) -> String {
        let text = sanitised(raw)
        // "=?" in plain text would be read as the start of an encoded-word: encode such text too.
        if isPrintableASCII(text), !text.contains("=?") {
            return foldAtSpaces(text, firstLineUsed: nameLength)
        }
        return encodedWords(text).joined(separator: "\r\n ")
    }

    /// A display name for From/To/Reply-To: a quoted-string when ASCII, else encoded-words.
    static func phrase(_ raw: String) -> [String] {
        let text = sanitised(raw)
        if isPrintableASCII(text), !text.contains("=?") {
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return ["\"\(escaped)\""]
        }
        return encodedWords(text)
    }

    /// `Name <address>` or `address`, folded between encoded-words. The address must already be checked.
    static func mailbox(name: String?, address: String) -> String {
        let words = name.map(phrase) ?? []
        guard !words.isEmpty, words != ["\"\""] else { return address }
        return words.joined(separator: "\r\n ") + " <\(address)>"
    }

    /// RFC 2047 "B" encoded-words of at most `bytesPerWord` UTF-8 bytes each, never splitting a character
    /// (a grapheme when it fits, else a Unicode scalar), so each word decodes on its own.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            guard !chunk.isEmpty else { return }
            words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
            chunk.removeAll()
        }
        for character in text {
            let bytes = Array(String(character).utf8)
            if bytes.count <= bytesPerWord {
                if chunk.count + bytes.count > bytesPerWord { flush() }
                chunk += bytes
            } else {
                for scalar in character.unicodeScalars {
                    let scalarBytes = Array(String(scalar).utf8)
                    if chunk.count + scalarBytes.count > bytesPerWord { flush() }
                    chunk += scalarBytes
                }
            }
        }
        flush()
        return words
    }

    /// Folds printable ASCII at spaces so lines stay within 78 characters where a space allows it.
    static func foldAtSpaces(_ text: String, firstLineUsed: Int) -> String {
        var lines: [String] = []
        var line = ""
        var used = firstLineUsed
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !line.isEmpty, used + line.count + 1 + word.count > 78 {
                lines.append(line)
                line = ""
                used = 1
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        lines.append(line)
        return lines.joined(separator: "\r\n ")
    }

    /// A URL that can sit between `<` and `>` in a header: http(s), printable ASCII, no spaces or angle brackets.
    static func headerURL(_ url: String) -> String? {
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), url.utf8.count <= 900,
              url.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") && $0 != UInt8(ascii: "\"") })
        else { return nil }
        return url
    }

    /// The left part of a Message-ID: the delivery id with anything outside RFC 5322 dot-atom text replaced by `-`.
    static func messageIDLeft(_ id: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.".utf8)
        var bytes = id.utf8.prefix(200).map { allowed.contains($0) ? $0 : UInt8(ascii: "-") }
        // No leading, trailing or doubled dots.
        while bytes.first == UInt8(ascii: ".") { bytes.removeFirst() }
        while bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        var out: [UInt8] = []
        for b in bytes where !(b == UInt8(ascii: ".") && out.last == UInt8(ascii: ".")) { out.append(b) }
        return out.isEmpty ? "delivery" : String(decoding: out, as: UTF8.self)
    }

    /// RFC 5322 date-time in UTC: `Tue, 05 Mar 2024 14:03:09 +0000`.
    static func date(_ date: Date) -> String { UTCDates.rfc5322(date) }
}
