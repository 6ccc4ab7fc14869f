import DetourCore
import Foundation

/// Meta's per-org RSS feed of open events (`metastatus.com/outage-events-feed-{org}.rss`): RSS 2.0
/// whose channel is titled like "WhatsApp Business Platform Status" and holds one `<item>` per open
/// event; readers of it report the feed empty while nothing is open, and an event leaves the feed
/// when it is resolved. An item's title may carry the level in brackets
/// (`[High disruptions]: Cloud API`), read as `MetaStatusFeed` reads a service status.
///
/// Empty feed: ok. Items: the worst level found, or `slow` for an open event whose level is not
/// said. A component keeps only the items whose title or description names it. A body that is
/// not an RSS feed (metastatus.com answers any unknown path with its HTML page and a 200) is unknown.
enum MetaStatusRSS {
    struct Item { var title: String; var description: String }

    static func interpret(_ data: Data, component: String?) -> (verdict: ProbeResult.Verdict, detail: String) {
        guard let text = String(data: data, encoding: .utf8), text.contains("<rss"), text.contains("<channel") else {
            return (.unknown, "feed is not an RSS feed")
        }
        let channel = element("title", in: String(text[..<(text.range(of: "<item")?.lowerBound ?? text.endIndex)])) ?? "feed"
        var items = Self.items(text)
        if let component {
            items = items.filter { $0.title.localizedCaseInsensitiveContains(component) || $0.description.localizedCaseInsensitiveContains(component) }
        }
        guard !items.isEmpty else {
            return (.ok, "\(channel): no open events" + (component.map { " for \"\($0)\"" } ?? ""))
        }
        let judged = items.map { item -> (Item, ProbeResult.Verdict) in
            guard let level = level(item.title) else { return (item, .slow) }
            let v = MetaStatusFeed.verdict(forStatus: level)
            return (item, v == .unknown ? .slow : v)
        }
        let worst = judged.map(\.1).max { $0.severity < $1.severity } ?? .slow
        let listed = judged.prefix(3).map { FeedText.short($0.0.title) }.joined(separator: "; ")
        return (worst, "\(channel): \(items.count) open event\(items.count == 1 ? "" : "s"): \(listed)")
    }

    /// `[High disruptions]: Cloud API` → `High disruptions`.
    static func level(_ title: String) -> String? {
        guard title.hasPrefix("["), let close = title.firstIndex(of: "]") else { return nil }
        return String(title[title.index(after: title.startIndex)..<close])
    }

    static func items(_ text: String) -> [Item] {
        var out: [Item] = []
        var rest = text[...]
        while let open = rest.range(of: "<item"), let close = rest.range(of: "</item>", range: open.upperBound..<rest.endIndex) {
            let body = String(rest[open.upperBound..<close.lowerBound])
            out.append(Item(title: element("title", in: body) ?? "", description: element("description", in: body) ?? ""))
            rest = rest[close.upperBound...]
            if out.count >= 100 { break }
        }
        return out
    }

    /// The text of the first `<name>…</name>`, CDATA unwrapped and the XML entities decoded.
    static func element(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)"), let gt = text.range(of: ">", range: open.upperBound..<text.endIndex),
              let close = text.range(of: "</\(name)>", range: gt.upperBound..<text.endIndex) else { return nil }
        var value = String(text[gt.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
        if value.hasPrefix("<![CDATA["), value.hasSuffix("]]>") { return String(value.dropFirst(9).dropLast(3)) }
        for (entity, char) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&#39;", "'"), ("&amp;", "&")] {
            value = value.replacingOccurrences(of: entity, with: char)
        }
        return value
    }
}

enum FeedText {
    static func short(_ s: String) -> String { s.count <= 80 ? s : String(s.prefix(79)) + "…" }
}
