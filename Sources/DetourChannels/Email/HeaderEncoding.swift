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
        if isTidyASCII(text) && text.utf8.count <= maxCharacters { return text }
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

    /// Printable ASCII with single spaces between words and none at the ends: already sanitised.
    static func isTidyASCII(_ text: String) -> Bool {
        var previous = UInt8(ascii: " ")
        for byte in text.utf8 {
            guard (0x20...0x7E).contains(byte), !(byte == 0x20 && previous == 0x20) else { return false }
            previous = byte
        }
        return previous != 0x20 || text.isEmpty
    }

    /// Whether "=?" occurs, which a reader would take for the start of an encoded-word.
    static func containsEncodedWordStart(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == UInt8(ascii: "=") && byte == UInt8(ascii: "?") { return true }
            previous = byte
        }
        return false
    }

    /// `text` on one line: runs of white space become one space, none at the ends; the same as
    /// `split(whereSeparator: \.isWhitespace).joined(separator: " ")`, without its per-character
    /// Unicode lookups when the text only has ASCII white space at its ends and single spaces inside.
    static func singleSpaced(_ text: String) -> String {
        let utf8 = text.utf8
        let isEdgeSpace = { (byte: UInt8) in byte == 0x20 || (0x09...0x0D).contains(byte) }
        let start = utf8.firstIndex { !isEdgeSpace($0) } ?? utf8.endIndex
        let end = utf8[start...].lastIndex { !isEdgeSpace($0) }.map { utf8.index(after: $0) } ?? start
        let trimmed = Substring(text)[start..<end]
        if isSingleSpaced(trimmed) { return String(trimmed) }
        return text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// No Unicode white space but single ASCII spaces between words, and no space that a
    /// combining mark would make part of a larger character.
    private static func isSingleSpaced(_ text: Substring) -> Bool {
        var afterSpace = true
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x20:
                if afterSpace { return false }
                afterSpace = true
                continue
            case 0x09...0x0D, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
                return false  // Unicode White_Space other than the plain space
            case 0x80...:
                // A mark or joiner right after a space would join it into one character.
                if afterSpace && extendsPrevious(scalar) { return false }
            default:
                break
            }
            afterSpace = false
        }
        return !afterSpace || text.isEmpty
    }

    private static func extendsPrevious(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .format: return true
        default: return (0x1F3FB...0x1F3FF).contains(scalar.value)  // emoji skin-tone modifiers
        }
    }

    static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }

    /// An unstructured field body (Subject): plain ASCII folded at spaces, or encoded-words.
    /// `nameLength` is the length of `Name: ` so the first line stays within 78 characters.
    static func unstructured(_ raw: String, nameLength: Int) -> String {
        let text = sanitised(raw)
        // "=?" in plain text would be read as the start of an encoded-word: encode such text too.
        if isPrintableASCII(text), !containsEncodedWordStart(text) {
            return foldAtSpaces(text, firstLineUsed: nameLength)
        }
        return encodedWords(text).joined(separator: "\r\n ")
    }

    /// A display name for From/To/Reply-To: a quoted-string when ASCII, else encoded-words.
    static func phrase(_ raw: String) -> [String] {
        let text = sanitised(raw)
        if isPrintableASCII(text), !containsEncodedWordStart(text) {
            let needsEscape = text.utf8.contains { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }
            let escaped = !needsEscape ? text
                : text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
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
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 8)
        var lineLength = 0  // bytes (characters: the text is ASCII) on the current output line
        var used = firstLineUsed
        for word in text.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true) {
            if lineLength > 0, used + lineLength + 1 + word.count > 78 {
                out.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: " ")])
                lineLength = 0
                used = 1
            } else if lineLength > 0 {
                out.append(UInt8(ascii: " "))
                lineLength += 1
            }
            out.append(contentsOf: word)
            lineLength += word.count
        }
        return String(decoding: out, as: UTF8.self)
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
        let atext = atext  // once: each use of a static checks its lazy initialisation
        var bytes = id.utf8.prefix(200).map { atext[Int($0)] ? $0 : UInt8(ascii: "-") }
        // No leading, trailing or doubled dots.
        while bytes.first == UInt8(ascii: ".") { bytes.removeFirst() }
        while bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        var out: [UInt8] = []
        for b in bytes where !(b == UInt8(ascii: ".") && out.last == UInt8(ascii: ".")) { out.append(b) }
        return out.isEmpty ? "delivery" : String(decoding: out, as: UTF8.self)
    }

    /// Which bytes are RFC 5322 atext (or a dot), by value.
    private static let atext: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.".utf8 { table[Int(byte)] = true }
        return table
    }()

    /// RFC 5322 date-time in UTC: `Tue, 05 Mar 2024 14:03:09 +0000`.
    static func date(_ date: Date) -> String { UTCDates.rfc5322(date) }
}
