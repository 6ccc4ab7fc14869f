/// Cuts text to a receiver's length limit, ending it with "…" when cut.
///
/// Lengths are counted in UTF-16 code units, as Slack, Teams and Discord count them (an emoji may
/// count as two), so the result is within the limit whichever way the receiver counts. Cuts fall
/// on character boundaries: an emoji or an accented letter is never split.
enum TextLimit {
    static let ellipsis: Character = "…"

    /// The length as receivers count it.
    static func length(_ text: String) -> Int { text.utf16.count }

    /// `text` when it fits in `limit`, else its longest prefix that fits with "…" after it.
    static func truncate(_ text: String, to limit: Int) -> String {
        guard length(text) > limit else { return text }
        guard limit > 0 else { return "" }
        var out = ""
        var used = 0
        for character in text {
            let size = String(character).utf16.count
            if used + size > limit - 1 { break }
            out.append(character)
            used += size
        }
        return out + String(ellipsis)
    }
}
