import DetourCore
import Foundation

/// The body for a Discord webhook: `content` (the headline) and one embed with the message and a
/// field per contact, kept within Discord's limits. Mentions in the text never ping anyone.
public struct DiscordBody: Sendable, Hashable, Encodable {
    public var content: String
    public var embeds: [Embed]
    public var allowedMentions = AllowedMentions()

    enum CodingKeys: String, CodingKey { case content, embeds, allowedMentions = "allowed_mentions" }

    public struct Embed: Sendable, Hashable, Encodable {
        public var title: String
        /// Left out when empty: Discord refuses an empty description.
        public var description: String?
        public var color: Int
        public var timestamp: String
        public var fields: [Field]
    }

    public struct Field: Sendable, Hashable, Encodable {
        public var name: String
        public var value: String
        public var inline: Bool
    }

    /// `{"parse": []}`: `@everyone`, `@here`, user and role mentions in policy text stay plain text.
    public struct AllowedMentions: Sendable, Hashable, Encodable {
        public var parse: [String] = []
    }

    /// Discord's documented limits.
    public enum Limits {
        public static let content = 2000
        public static let title = 256
        public static let description = 4096
        public static let fields = 25
        public static let fieldName = 256
        public static let fieldValue = 1024
        /// Title, description, field names and values together.
        public static let embedTotal = 6000
    }

    /// Red while a platform is down, green for the all-clear, blue for a test, amber for an operator alert.
    static func color(for event: MessageEvent) -> Int {
        switch event {
        case .opened: 0xD93025
        case .resolved: 0x1E8E3E
        case .test: 0x1A73E8
        case .alert: 0xF29900
        }
    }

    public init(context: MessageContext, text words: WebhookText) {
        content = TextLimit.truncate(words.headline, to: Limits.content)
        let fields = context.contacts.prefix(Limits.fields).map { contact in
            Field(name: TextLimit.truncate(contact.label.isEmpty ? contact.url : contact.label, to: Limits.fieldName),
                  value: TextLimit.truncate(contact.url, to: Limits.fieldValue), inline: true)
        }
        let embed = Embed(title: TextLimit.truncate(words.headline, to: Limits.title),
                          description: words.body.isEmpty ? nil : TextLimit.truncate(words.body, to: Limits.description),
                          color: Self.color(for: context.event), timestamp: UTCDates.iso(context.resolvedAt ?? context.since),
                          fields: Array(fields))
        embeds = [Self.fitTotal(embed)]
    }

    /// The embed's total length as Discord counts it.
    public static func total(_ e: Embed) -> Int {
        TextLimit.length(e.title) + TextLimit.length(e.description ?? "")
            + e.fields.reduce(0) { $0 + TextLimit.length($1.name) + TextLimit.length($1.value) }
    }

    /// Keeps the title and description (each already within its own limit, so together within 6000)
    /// and as many contact fields as fit in what is left of the 6000; the last one may be shortened.
    static func fitTotal(_ embed: Embed) -> Embed {
        var e = embed
        var left = Limits.embedTotal - TextLimit.length(e.title) - TextLimit.length(e.description ?? "")
        var kept: [Field] = []
        for field in embed.fields {
            let name = TextLimit.length(field.name)
            if name + TextLimit.length(field.value) <= left {
                kept.append(field)
                left -= name + TextLimit.length(field.value)
            } else {
                if left - name >= 16 {
                    kept.append(Field(name: field.name, value: TextLimit.truncate(field.value, to: left - name), inline: field.inline))
                }
                break
            }
        }
        e.fields = kept
        return e
    }
}
