import DetourCore

/// The body for a Slack incoming webhook: `text` (the notification and fallback) and Block Kit
/// `blocks` (a header, the message as mrkdwn, the contacts as links).
public struct SlackBody: Sendable, Hashable, Encodable {
    public var text: String
    public var blocks: [Block]

    /// One Block Kit block: a `header` (plain text) or a `section` (mrkdwn).
    public struct Block: Sendable, Hashable, Encodable {
        public var type: String
        public var text: TextObject
    }

    /// A Block Kit text object.
    public struct TextObject: Sendable, Hashable, Encodable {
        public var type: String
        public var text: String
    }

    /// Slack's limits: header text 150 characters, section text 3000; `text` is kept to 3000 as well.
    static let headerLimit = 150
    static let sectionLimit = 3000

    public init(context: MessageContext, text words: WebhookText) {
        text = TextLimit.truncate(Self.escape(words.headline), to: Self.sectionLimit)
        var blocks: [Block] = []
        if !words.headline.isEmpty {
            blocks.append(Block(type: "header", text: TextObject(type: "plain_text", text: TextLimit.truncate(words.headline, to: Self.headerLimit))))
        }
        if !words.body.isEmpty {
            blocks.append(Block(type: "section", text: TextObject(type: "mrkdwn", text: TextLimit.truncate(Self.escape(words.body), to: Self.sectionLimit))))
        }
        if !context.contacts.isEmpty {
            blocks.append(Block(type: "section", text: TextObject(type: "mrkdwn", text: Self.fitLinks(context.contacts))))
        }
        self.blocks = blocks
    }

    /// Slack's control characters in message text: `&`, `<` and `>` become entities; nothing else is escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(c)
            }
        }
        return out
    }

    /// `<url|label>`; a `|` in the URL would end it early, so it is percent-encoded.
    static func link(_ contact: ContactLink) -> String {
        let url = escape(contact.url).replacingOccurrences(of: "|", with: "%7C")
        return "<\(url)|\(escape(contact.label))>"
    }

    /// As many whole links as fit in one section; a link is never cut in half.
    static func fitLinks(_ contacts: [ContactLink]) -> String {
        var out = ""
        for contact in contacts {
            let line = link(contact)
            let next = out.isEmpty ? line : out + "\n" + line
            if TextLimit.length(next) > sectionLimit - 2 { return out.isEmpty ? TextLimit.truncate(escape(contact.label), to: sectionLimit) : out + "\n…" }
            out = next
        }
        return out
    }
}
