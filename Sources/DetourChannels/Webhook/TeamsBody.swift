import DetourCore

/// The body for a Microsoft Teams Workflows webhook ("When a Teams webhook request is received"):
/// a `message` with one Adaptive Card 1.4 attachment holding the headline, the message, the
/// contacts as facts, and a button for each web link.
public struct TeamsBody: Sendable, Hashable, Encodable {
    public var type = "message"
    public var attachments: [Attachment]

    public struct Attachment: Sendable, Hashable, Encodable {
        public var contentType = "application/vnd.microsoft.card.adaptive"
        public var content: AdaptiveCard
    }

    public struct AdaptiveCard: Sendable, Hashable, Encodable {
        public var schema = "http://adaptivecards.io/schemas/adaptive-card.json"
        public var type = "AdaptiveCard"
        public var version = "1.4"
        public var body: [Element]
        public var actions: [Action]?

        enum CodingKeys: String, CodingKey { case schema = "$schema", type, version, body, actions }
    }

    /// A `TextBlock` or a `FactSet`; unused fields are left out.
    public struct Element: Sendable, Hashable, Encodable {
        public var type: String
        public var text: String?
        public var wrap: Bool?
        public var weight: String?
        public var size: String?
        public var style: String?
        public var facts: [Fact]?
    }

    public struct Fact: Sendable, Hashable, Encodable {
        public var title: String
        public var value: String
    }

    /// An `Action.OpenUrl` button.
    public struct Action: Sendable, Hashable, Encodable {
        public var type = "Action.OpenUrl"
        public var title: String
        public var url: String
    }

    /// Teams refuses cards over about 28 KB; the text is kept well below that.
    static let textLimit = 8000
    static let maxContacts = 20

    public init(context: MessageContext, text words: WebhookText) {
        var body: [Element] = []
        if !words.headline.isEmpty {
            body.append(Element(type: "TextBlock", text: TextLimit.truncate(words.headline, to: 500), wrap: true,
                                weight: "Bolder", size: "Medium", style: "heading"))
        }
        if !words.body.isEmpty {
            body.append(Element(type: "TextBlock", text: TextLimit.truncate(words.body, to: Self.textLimit), wrap: true))
        }
        let contacts = context.contacts.prefix(Self.maxContacts)
        if !contacts.isEmpty {
            let facts = contacts.map { Fact(title: TextLimit.truncate($0.label, to: 200), value: TextLimit.truncate($0.url, to: 1000)) }
            body.append(Element(type: "FactSet", facts: facts))
        }
        let buttons = contacts.filter { $0.url.lowercased().hasPrefix("https://") || $0.url.lowercased().hasPrefix("http://") }
            .map { Action(title: TextLimit.truncate($0.label, to: 200), url: $0.url) }
        let card = AdaptiveCard(body: body, actions: buttons.isEmpty ? nil : buttons)
        attachments = [Attachment(content: card)]
    }
}
