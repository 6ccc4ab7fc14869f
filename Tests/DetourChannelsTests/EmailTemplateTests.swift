import DetourChannels
import DetourCore
import Foundation
import Testing
import TestKit

@Suite struct EmailTemplateTests {
    @Test(arguments: MessageEvent.toCustomers)
    func builtinTemplatesGreetByNameAndEscapeOnlyTheHTML(_ event: MessageEvent) throws {
        let rendered = try EmailTemplates.builtin(event).render(EmailFixtures.context(event))
        #expect(!rendered.subject.isEmpty)
        #expect(!rendered.subject.contains("\n"))
        #expect(rendered.subject.contains("Rosie's Bäckerei 🥐"), "subjects are plain text, not HTML-escaped")
        #expect(rendered.text.hasPrefix("Hi Zoë,\n"))
        #expect(rendered.text.contains("Rosie's Bäckerei 🥐"))
        #expect(!rendered.text.contains("&#39;"), "the text part must not be HTML-escaped")
        #expect(rendered.html.contains("Rosie&#39;s Bäckerei 🥐"))
        #expect(rendered.html.contains("<p>Hi Zoë,</p>"))
        #expect(rendered.text.contains("Unsubscribe: https://detour.rosies.example/unsubscribe/tok_123"))
        #expect(rendered.html.contains("href=\"https://detour.rosies.example/unsubscribe/tok_123\""))
        for text in [rendered.subject, rendered.text, rendered.html] { #expect(!text.contains("{{")) }
    }

    @Test func openedEmailCarriesThePolicyMessageAndContacts() throws {
        let rendered = try EmailTemplates.builtin(.opened).render(EmailFixtures.context())
        #expect(rendered.subject == "Can't reach Rosie's Bäckerei 🥐 on Instagram and WhatsApp? Here's how to reach us")
        #expect(rendered.text.contains("Instagram is down. Call us or email us to order."))
        #expect(rendered.text.contains("- Call us: tel:+441234567890\n- Order online: https://rosies.example/order\n"))
        #expect(rendered.html.contains("<a href=\"tel:+441234567890\" style=\"color:#0b57d0\">Call us</a>"))
    }

    @Test(arguments: MessageEvent.toCustomers)
    func theGreetingFallsBackWithoutAName(_ event: MessageEvent) throws {
        for name in [nil, ""] as [String?] {
            let rendered = try EmailTemplates.builtin(event).render(EmailFixtures.context(event, name: name))
            #expect(rendered.text.hasPrefix("Hello,\n"))
            #expect(rendered.html.contains("<p>Hello,</p>"))
        }
    }

    @Test func withoutAnUnsubscribeLinkTheFooterIsLeftOut() throws {
        let rendered = try EmailTemplates.builtin(.opened).render(EmailFixtures.context(unsubscribe: nil))
        #expect(!rendered.text.contains("Unsubscribe"))
        #expect(!rendered.html.contains("Unsubscribe"))
    }

    @Test func policyTextIsEscapedInHTMLAndKeptAsIsInText() throws {
        let hostile = "<script>alert('x')</script> & \"more\""
        let rendered = try EmailTemplates.builtin(.opened).render(EmailFixtures.context(message: hostile))
        #expect(!rendered.html.contains("<script>"))
        #expect(rendered.html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"))
        #expect(rendered.text.contains(hostile))
    }

    @Test func anAllClearWithoutRecoveryTextStillReadsWell() throws {
        let rendered = try EmailTemplates.builtin(.resolved).render(EmailFixtures.context(.resolved, message: ""))
        #expect(rendered.text.contains("Good news: the Instagram and WhatsApp outage is over"))
        #expect(!rendered.text.contains("\n\n\n"))
    }

    // MARK: override files

    @Test func anOverrideFileWithoutHTMLGetsEscapedParagraphs() throws {
        let dir = try TempDir("email-override")
        let path = try dir.write("opened.email", "Subject: {{business.name}}: {{platform_list}} is down\n\n{{#name}}Dear {{name}}{{/name}},\n<b>{{message}}</b>\n\nBye\n")
        let rendered = try EmailTemplates.file(path).render(EmailFixtures.context(message: "Use <email> & phone"))
        #expect(rendered.subject == "Rosie's Bäckerei 🥐: Instagram and WhatsApp is down")
        #expect(rendered.text == "Dear Zoë,\n<b>Use <email> & phone</b>\n\nBye\n")
        #expect(rendered.html.contains("<p>Dear Zoë,<br>\n&lt;b&gt;Use &lt;email&gt; &amp; phone&lt;/b&gt;</p>\n<p>Bye</p>"))
    }

    @Test func anOverrideFileMayBringItsOwnHTML() throws {
        let dir = try TempDir("email-override")
        let path = try dir.write("resolved.email", "Subject: Back!\r\n\r\nWe're back, {{name}}.\r\n--- html ---\r\n<h1>We're back, {{name}}</h1><p>{{message}}</p>\r\n")
        let rendered = try EmailTemplates.file(path).render(EmailFixtures.context(.resolved, message: "<i>hi</i>"))
        #expect(rendered.subject == "Back!")
        #expect(rendered.text == "We're back, Zoë.")
        #expect(rendered.html == "<h1>We're back, Zoë</h1><p>&lt;i&gt;hi&lt;/i&gt;</p>\n")
    }

    @Test func thePolicyOverrideIsUsedForItsEventOnly() throws {
        let dir = try TempDir("email-override")
        let refs = TemplateRefs(opened: try dir.write("o.email", "Subject: Custom\n\nCustom body\n"))
        #expect(try EmailTemplates.forEvent(.opened, refs: refs).render(EmailFixtures.context()).subject == "Custom")
        #expect(try EmailTemplates.forEvent(.resolved, refs: refs).source == "builtin:email/resolved")
        #expect(try EmailTemplates.forEvent(.test, refs: refs).source == "builtin:email/test")
    }

    @Test func validationAcceptsAGoodFileAndNamesEachProblem() throws {
        let dir = try TempDir("email-override")
        let good = try dir.write("good.email", "Subject: Hi\n\nBody\n")
        #expect(EmailTemplates.validate(refs: TemplateRefs(opened: good, resolved: good)).isEmpty)
        #expect(EmailTemplates.validate(refs: TemplateRefs()).isEmpty)

        let cases: [(String, String)] = [
            ("Hello there\n\nBody\n", "line 1 must be the subject"),
            ("Subject:   \n\nBody\n", "the subject is empty"),
            ("Subject: Hi\n\n\n", "the text body after the subject line is empty"),
            ("Subject: Hi\n\n{{#open}} never closed\n", "(text): template does not parse"),
            ("Subject: {{#x}}\n\nBody\n", "(subject): template does not parse"),
            ("Subject: Hi\n\nBody\n--- html ---\n<p>{{/x}}</p>\n", "(html): template does not parse"),
            ("Subject: Hi\n\nBody\n--- html ---\n\n", "the HTML section after \"--- html ---\" is empty"),
            ("Subject: Hi\n\nBody\n--- html ---\na\n--- html ---\nb\n", "appears 2 times"),
        ]
        for (text, expected) in cases {
            let path = try dir.write("bad-\(UUID().uuidString).email", text)
            let problems = EmailTemplates.validate(refs: TemplateRefs(resolved: path))
            #expect(problems.count == 1)
            #expect(problems.first?.contains("email template for resolved: \(path)") == true, "\(problems)")
            #expect(problems.first?.contains(expected) == true, "\(problems) should say \(expected)")
        }
        let missing = dir.file("nope.email")
        #expect(EmailTemplates.validate(refs: TemplateRefs(opened: missing)) == ["email template for opened: \(missing): cannot read the template (missing, unreadable, over 256 KiB or not UTF-8)"])
    }
}
