import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Testing
import TestKit

/// What each format puts on the wire, as a real receiver gets it.
@Suite(.timeLimit(.minutes(1)))
struct WebhookFormatTests {
    let dir: TempDir
    let client = CurlHTTPClient(logger: webhookTestLogger)

    init() throws { dir = try TempDir("webhook-format") }

    /// Delivers `message` in `format` and returns the received body as JSON.
    func receive(_ format: WebhookChannel.Format, _ message: OutgoingMessage = WebhookFixture.message(),
                 templates: TemplateRefs = TemplateRefs()) async throws -> [String: Any] {
        let server = try HTTPStandIn(routes: ["*": ["status": 200]], in: dir)
        let sender = try WebhookFixture.sender(WebhookFixture.webhook(format, url: server.baseURL + "/hook", templates: templates), client: client)
        _ = try await sender.deliver(message)
        let request = try #require(received(server).first)
        return try request.json()
    }

    func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Repo.path("channels/webhook/payload.schema.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test(arguments: [WebhookChannel.Format.standard, .json], MessageEvent.allCases)
    func standardAndJSONBodiesFollowTheSchema(format: WebhookChannel.Format, event: MessageEvent) async throws {
        let body = try await receive(format, WebhookFixture.message(event))
        #expect(SchemaCheck.problems(body, against: try schema()) == [])
        let data = try #require(body["data"] as? [String: Any])
        #expect(body["id"] as? String == "dlv_01HZX3K9")
        #expect(body["version"] as? Int == 1)
        #expect((data["business"] as? [String: Any])?["name"] as? String == "Rosie's Bakery")
        #expect(data["platforms"] as? [String] == ["Instagram", "WhatsApp"])
        #expect(data["since"] as? String == "2023-11-14T22:13:20Z")
        switch event {
        case .opened:
            #expect(body["type"] as? String == "detour.incident.opened")
            #expect(data["resolved_at"] is NSNull)
            #expect(data["headline"] as? String == "Rosie's Bakery: Instagram and WhatsApp not working")
        case .resolved:
            #expect(body["type"] as? String == "detour.incident.resolved")
            #expect(body["timestamp"] as? String == "2023-11-14T23:13:20Z")
            #expect(data["resolved_at"] as? String == "2023-11-14T23:13:20Z")
        case .test:
            #expect(body["type"] as? String == "detour.test")
            #expect(data["test"] as? Bool == true)
            #expect((data["headline"] as? String)?.hasPrefix("[Test] ") == true)
        case .alert:
            #expect(body["type"] as? String == "detour.operator.alert")
            #expect(data["headline"] as? String == "Rosie's Bakery: Detour needs attention")
        }
    }

    @Test func theSchemaCheckCatchesADriftingPayload() throws {
        let drifted: [String: Any] = ["type": "detour.incident.opened", "version": 2, "id": "x", "timestamp": "t", "data": ["extra": 1]]
        let problems = SchemaCheck.problems(drifted, against: try schema())
        #expect(problems.contains("$: expected 1, got 2") || problems.contains { $0.contains("version") })
        #expect(problems.contains("$.data: unexpected extra"))
        #expect(problems.contains("$.data: missing business"))
    }

    @Test func slackGetsTextAndBlocksWithEscapedTextAndContactLinks() async throws {
        let context = WebhookFixture.context(message: "Closed <today> & tomorrow > maybe",
                                             contacts: [ContactLink(label: "Call <us>", url: "tel:+44123"),
                                                        ContactLink(label: "Web", url: "https://x.example/a?b=1&c=2|3")])
        let body = try await receive(.slack, WebhookFixture.message(context: context))
        #expect(body["text"] as? String == "Rosie's Bakery: Instagram and WhatsApp not working")
        let blocks = try #require(body["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["header", "section", "section"])
        let header = try #require(blocks[0]["text"] as? [String: Any])
        #expect(header["type"] as? String == "plain_text")
        let message = try #require((blocks[1]["text"] as? [String: Any])?["text"] as? String)
        #expect((blocks[1]["text"] as? [String: Any])?["type"] as? String == "mrkdwn")
        #expect(message.hasPrefix("Closed &lt;today&gt; &amp; tomorrow &gt; maybe"))
        let links = try #require((blocks[2]["text"] as? [String: Any])?["text"] as? String)
        #expect(links == "<tel:+44123|Call &lt;us&gt;>\n<https://x.example/a?b=1&amp;c=2%7C3|Web>")
    }

    @Test func teamsGetsAnAdaptiveCardMessage() async throws {
        let body = try await receive(.teams)
        #expect(body["type"] as? String == "message")
        let attachments = try #require(body["attachments"] as? [[String: Any]])
        #expect(attachments.count == 1)
        #expect(attachments[0]["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
        let card = try #require(attachments[0]["content"] as? [String: Any])
        #expect(card["type"] as? String == "AdaptiveCard")
        #expect(card["version"] as? String == "1.4")
        let elements = try #require(card["body"] as? [[String: Any]])
        #expect(elements.map { $0["type"] as? String } == ["TextBlock", "TextBlock", "FactSet"])
        #expect(elements[0]["text"] as? String == "Rosie's Bakery: Instagram and WhatsApp not working")
        #expect((elements[1]["text"] as? String)?.hasPrefix("Instagram DMs may not reach us.") == true)
        let facts = try #require(elements[2]["facts"] as? [[String: Any]])
        #expect(facts.map { $0["title"] as? String } == ["Call us", "Book online"])
        let actions = try #require(card["actions"] as? [[String: Any]])
        #expect(actions.count == 1, "only web links become buttons")
        #expect(actions[0]["type"] as? String == "Action.OpenUrl")
        #expect(actions[0]["url"] as? String == "https://rosies.example/book")
    }

    @Test func discordGetsContentAndAnEmbedThatCannotPingAnyone() async throws {
        let body = try await receive(.discord, WebhookFixture.message(.resolved))
        #expect(body["content"] as? String == "Rosie's Bakery: Instagram and WhatsApp working again")
        #expect((body["allowed_mentions"] as? [String: Any])?["parse"] as? [String] == [])
        let embed = try #require((body["embeds"] as? [[String: Any]])?.first)
        #expect(embed["color"] as? Int == 0x1E8E3E)
        #expect(embed["title"] as? String == "Rosie's Bakery: Instagram and WhatsApp working again")
        let fields = try #require(embed["fields"] as? [[String: Any]])
        #expect(fields.map { $0["name"] as? String } == ["Call us", "Book online"])
    }

    @Test func discordLimitsHoldForAHugeMessage() async throws {
        let huge = String(repeating: "Very long outage text 🍰 ", count: 800) // ~20,000 characters
        let contacts = (1...40).map { ContactLink(label: String(repeating: "L", count: 400) + "\($0)", url: "https://x.example/" + String(repeating: "p", count: 2000)) }
        let context = MessageContext(event: .opened, businessID: "b", businessName: String(repeating: "Big Name ", count: 400), incidentID: "i",
                                     platforms: ["Instagram"], since: Date(timeIntervalSince1970: 0), message: huge, contacts: contacts)
        let body = try await receive(.discord, WebhookFixture.message(context: context))
        let content = try #require(body["content"] as? String)
        #expect(content.utf16.count <= 2000 && content.hasSuffix("…"))
        let embed = try #require((body["embeds"] as? [[String: Any]])?.first)
        let title = try #require(embed["title"] as? String)
        let description = try #require(embed["description"] as? String)
        let fields = try #require(embed["fields"] as? [[String: Any]])
        #expect(title.utf16.count <= 256 && title.hasSuffix("…"))
        #expect(description.utf16.count <= 4096 && description.hasSuffix("…"))
        #expect(fields.count <= 25)
        var total = title.utf16.count + description.utf16.count
        for field in fields {
            let name = try #require(field["name"] as? String), value = try #require(field["value"] as? String)
            #expect(name.utf16.count <= 256 && value.utf16.count <= 1024)
            total += name.utf16.count + value.utf16.count
        }
        #expect(total <= 6000)
        #expect(total > 5000, "the space is used, not thrown away")
    }

    @Test(arguments: WebhookChannel.Format.allCases)
    func hostileTextStillMakesValidJSON(format: WebhookChannel.Format) async throws {
        let hostile = "He said \"hi\" \\ <script>alert('x')</script>\nline2\r\n\ttab \u{0000}\u{001F} 🎂👩‍👩‍👧 @everyone </div>"
        let context = MessageContext(event: .opened, businessID: "b", businessName: "Bad \"Name\" <b>", incidentID: "i",
                                     platforms: ["Insta\"gram"], since: Date(timeIntervalSince1970: 0), message: hostile,
                                     contacts: [ContactLink(label: "a\"b<c>", url: "https://x.example/?q=\"<>")])
        let body = try await receive(format, WebhookFixture.message(context: context))
        let all = String(describing: body)
        #expect(!all.isEmpty)
        if format == .standard || format == .json {
            #expect((body["data"] as? [String: Any])?["message"] as? String == hostile, "the message arrives exactly as written")
        }
        if format == .slack { #expect(!all.contains("<script>"), "Slack text has < and > escaped") }
    }

    @Test func aPolicyTemplateReplacesTheBuiltInText() async throws {
        let path = try dir.write("opened.mustache", "{{% CONTENT_TYPE: TEXT}}\nHeads up from {{business.name}}!\nSee {{incident}} & call.\n")
        let body = try await receive(.json, templates: TemplateRefs(opened: path))
        let data = try #require(body["data"] as? [String: Any])
        #expect(data["headline"] as? String == "Heads up from Rosie's Bakery!")
        #expect(data["text"] as? String == "See inc-42 & call.")
    }

    @Test func aMissingTemplateFileStopsTheSenderBeingMade() throws {
        #expect(throws: TemplateRenderer.Problem.self) {
            _ = try WebhookFixture.sender(WebhookFixture.webhook(.slack, url: "http://127.0.0.1:9/x",
                                                                 templates: TemplateRefs(resolved: dir.file("nope.mustache"))), client: client)
        }
    }

    @Test func aResolvedEventWithoutRecoveryTextUsesTheTemplatesOwnWords() throws {
        let templates = try WebhookTemplates(TemplateRefs())
        let text = templates.text(for: WebhookFixture.context(.resolved, message: ""))
        #expect(text.headline == "Rosie's Bakery: Instagram and WhatsApp working again")
        #expect(text.body.hasPrefix("Messages through Instagram and WhatsApp reach us again."))
        #expect(text.body.contains("Down from 14 Nov 2023, 22:13 GMT to 14 Nov 2023, 23:13 GMT."))
    }
}
