import DetourChannels
import DetourCore
import Foundation
import Testing

/// The message bytes, read back by an independent parser (Python's `email` package).
@Suite(.timeLimit(.minutes(1)))
struct EmailMessageBuilderTests {
    func message(subject: String = "Can't reach Rosie's Bäckerei 🥐 on Instagram and WhatsApp? Here's how to reach us, même ce soir 🎉",
                 text: String = "Hi Zoë,\n\nCall us.", html: String = "<p>Hi Zoë,</p>",
                 to: Mailbox = Mailbox(name: "Zoë Ålander", address: "zoe@customers.example"),
                 id: String = "dlv_01HQ7Z3K8M", date: Date = Date(timeIntervalSince1970: 1_700_000_000),
                 unsubscribe: String? = "https://detour.rosies.example/unsubscribe/tok_123") -> EmailMessage {
        EmailMessage(from: EmailFixtures.from, to: to, replyTo: EmailFixtures.replyTo, subject: subject, text: text, html: html,
                     deliveryID: id, date: date, unsubscribeURL: unsubscribe)
    }

    @Test func emojiAndAccentsSurviveInNamesAndSubject() throws {
        let m = message()
        let parsed = try ParsedEmail.parse(try EmailMessageBuilder.build(m))
        #expect(parsed.defects.isEmpty)
        #expect(parsed.subject == m.subject)
        #expect(parsed.from?.first?.name == "Rosie's Bäckerei 🥐")
        #expect(parsed.from?.first?.address == "hello@rosies.example")
        #expect(parsed.to?.first?.name == "Zoë Ålander")
        #expect(parsed.replyTo?.first?.address == "rosie@rosies.example")
    }

    @Test func isMultipartAlternativeWithUTF8TextAndHTMLParts() throws {
        let parsed = try ParsedEmail.parse(try EmailMessageBuilder.build(message()))
        #expect(parsed.contentType == "multipart/alternative")
        #expect(parsed.parts.map(\.type) == ["text/plain", "text/html"])
        #expect(parsed.parts.allSatisfy { $0.charset == "utf-8" && $0.cte == "quoted-printable" })
        #expect(parsed.text?.hasPrefix("Hi Zoë,\n\nCall us.") == true)
        #expect(parsed.html?.hasPrefix("<p>Hi Zoë,</p>") == true)
        #expect(parsed.header("MIME-Version") == ["1.0"])
        #expect(parsed.header("Auto-Submitted") == ["auto-generated"])
    }

    @Test func everyLineEndsInCRLFAndStaysShort() throws {
        let long = String(repeating: "Bäckerei-🥐 = ", count: 400) + "   "
        let m = message(subject: String(repeating: "Outage ", count: 25), text: long + "\nFrom now on\n.\nend", html: long)
        let data = try EmailMessageBuilder.build(m)
        let parsed = try ParsedEmail.parse(data)
        // A soft line break never splits a UTF-8 character: no line starts with a continuation byte (=80…=BF).
        let lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(!lines.contains { line in ["=8", "=9", "=A", "=B"].contains { line.hasPrefix($0) } })
        #expect(parsed.bareLineBreaks == 0)
        #expect(parsed.longestLine <= 78)
        #expect(parsed.subject == m.subject.trimmingCharacters(in: .whitespaces))
        // Trailing spaces, "=", a leading "From " and a lone "." come back exactly.
        #expect(parsed.text?.hasPrefix(long + "\nFrom now on\n.\nend") == true)
    }

    @Test func dateIsRFC5322() throws {
        let parsed = try ParsedEmail.parse(try EmailMessageBuilder.build(message()))
        #expect(parsed.header("Date") == ["Tue, 14 Nov 2023 22:13:20 +0000"])
    }

    @Test func messageIDIsTheDeliveryIDAtTheSenderDomainOnEveryAttempt() throws {
        let first = try ParsedEmail.parse(try EmailMessageBuilder.build(message(date: Date(timeIntervalSince1970: 1_700_000_000))))
        let retry = try ParsedEmail.parse(try EmailMessageBuilder.build(message(date: Date(timeIntervalSince1970: 1_700_000_900))))
        #expect(first.header("Message-ID") == ["<dlv_01HQ7Z3K8M@rosies.example>"])
        #expect(retry.header("Message-ID") == first.header("Message-ID"))
        #expect(retry.header("Date") != first.header("Date"))
    }

    @Test func aHostileDeliveryIDCannotBreakTheMessageID() throws {
        let parsed = try ParsedEmail.parse(try EmailMessageBuilder.build(message(id: "a b>\r\nBcc: x@evil.test")))
        #expect(parsed.header("Message-ID") == ["<a-b---Bcc--x-evil.test@rosies.example>"])
        #expect(parsed.header("Bcc").isEmpty)
    }

    @Test func unsubscribeHeadersFollowRFC8058() throws {
        let with = try ParsedEmail.parse(try EmailMessageBuilder.build(message()))
        #expect(with.header("List-Unsubscribe") == ["<https://detour.rosies.example/unsubscribe/tok_123>"])
        #expect(with.header("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"])
        let without = try ParsedEmail.parse(try EmailMessageBuilder.build(message(unsubscribe: nil)))
        #expect(without.header("List-Unsubscribe").isEmpty)
        #expect(without.header("List-Unsubscribe-Post").isEmpty)
        let hostile = try ParsedEmail.parse(try EmailMessageBuilder.build(message(unsubscribe: "https://x.example/u>\r\nBcc: x@evil.test")))
        #expect(hostile.header("List-Unsubscribe").isEmpty)
        #expect(hostile.header("Bcc").isEmpty)
    }

    @Test func lineBreaksInNamesAndSubjectNeverStartAHeader() throws {
        let m = message(subject: "Closed\r\nBcc: x@evil.test\nX-Evil: 1\u{2028}X-Too: 2",
                        to: Mailbox(name: "Evil\r\nBcc: x@evil.test", address: "zoe@customers.example"))
        var from = m
        from.from = Mailbox(name: "Shop\rCc: y@evil.test", address: "hello@rosies.example")
        for candidate in [m, from] {
            let parsed = try ParsedEmail.parse(try EmailMessageBuilder.build(candidate))
            let names = Set(parsed.headers.compactMap { $0.first?.lowercased() })
            #expect(names == ["from", "to", "reply-to", "subject", "date", "message-id", "mime-version", "auto-submitted",
                              "list-unsubscribe", "list-unsubscribe-post", "content-type"])
            #expect(parsed.defects.isEmpty)
        }
        let parsed = try ParsedEmail.parse(try EmailMessageBuilder.build(m))
        #expect(parsed.to?.map(\.address) == ["zoe@customers.example"])
        #expect(parsed.to?.first?.name == "Evil Bcc: x@evil.test")
        #expect(parsed.subject == "Closed Bcc: x@evil.test X-Evil: 1 X-Too: 2")
    }

    @Test func quotesAndBackslashesInAnASCIINameRoundTrip() throws {
        let parsed = try ParsedEmail.parse(try EmailMessageBuilder.build(message(to: Mailbox(name: #"Bob "the" Baker \ Co, Ltd."#, address: "bob@customers.example"))))
        #expect(parsed.to?.first?.name == #"Bob "the" Baker \ Co, Ltd."#)
        #expect(parsed.to?.first?.address == "bob@customers.example")
    }

    @Test func anAddressWithALineBreakIsRefused() {
        #expect(throws: EmailMessageError.self) {
            try EmailMessageBuilder.build(message(to: Mailbox(name: nil, address: "zoe@customers.example\r\nBcc: x@evil.test")))
        }
        var m = message()
        m.from = Mailbox(name: nil, address: "hello@rosies.example>\r\nBcc: x@evil.test")
        #expect(throws: EmailMessageError.self) { try EmailMessageBuilder.build(m) }
    }
}
