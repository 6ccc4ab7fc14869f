import DetourCore
import Foundation

/// The text of a business's public post for an incident event: its own templates or the defaults in
/// `channels/social/`, with the variables of every channel, measured as each platform counts.
public struct SocialText: Sendable {
    private let opened: TemplateRenderer
    private let resolved: TemplateRenderer

    /// - Throws: when a template file cannot be read or parsed.
    public init(_ refs: TemplateRefs) throws(TemplateRenderer.Problem) {
        opened = try SMSText.template(refs.opened, builtin: "social/opened")
        resolved = try SMSText.template(refs.resolved, builtin: "social/resolved")
    }

    /// The post, without leading or trailing space, and without blank runs of more than one line.
    public func render(_ context: MessageContext) -> String {
        let template = context.event == .resolved ? resolved : opened
        var text = template.render(TemplateValues.from(context)).trimmingCharacters(in: .whitespacesAndNewlines)
        while text.contains("\n\n\n") { text = text.replacingOccurrences(of: "\n\n\n", with: "\n\n") }
        return context.event == .test ? "[Test] " + text : text
    }

    /// How long `text` is as `kind`'s platform counts it: Mastodon counts every link as 23
    /// characters, Bluesky counts graphemes, Telegram UTF-16 code units, Google characters.
    public static func length(_ text: String, for kind: ChannelKind) -> Int {
        switch kind {
        case .mastodon:
            var count = text.count
            for link in links(in: text) { count += 23 - text[link].count }
            return count
        case .telegram: return text.utf16.count
        default: return text.count
        }
    }

    /// The http(s) links in `text`, without trailing punctuation.
    public static func links(in text: String) -> [Range<String.Index>] {
        var out: [Range<String.Index>] = []
        var search = text.startIndex..<text.endIndex
        while let start = text.range(of: "http", options: [], range: search) {
            let rest = text[start.lowerBound...]
            guard rest.hasPrefix("https://") || rest.hasPrefix("http://"),
                  start.lowerBound == text.startIndex || !text[text.index(before: start.lowerBound)].isLetter else {
                search = start.upperBound..<text.endIndex; continue
            }
            var end = rest.firstIndex(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "\"" }) ?? text.endIndex
            while end > start.lowerBound, let last = text[..<end].last, ".,;:!?)]}'".contains(last) { end = text.index(before: end) }
            out.append(start.lowerBound..<end)
            search = end..<text.endIndex
        }
        return out
    }
}
