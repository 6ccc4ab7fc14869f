import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Testing
import TestKit

/// The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1.
@Suite(.timeLimit(.minutes(1)))
struct EmailDeliveryTests {
    func sender(_ server: EmailSMTPServer, startTLS: SMTPServer.StartTLS = .off, username: String? = nil, password: String? = nil,
                templates: TemplateRefs = TemplateRefs()) -> (EmailChannelSender, SMTPConnectionPool) {
        let smtp = server.smtpServer(startTLS: startTLS, username: username, password: password)
        let pool = smtp.makePool(logger: emailTestLogger)
        return (EmailChannelSender(settings: EmailFixtures.channel(templates: templates), server: smtp, pool: pool,
                                   logger: emailTestLogger), pool)
    }

    /// Delivers and returns the error it must fail with (records an issue if it succeeds).
    func expectFailure(_ sender: EmailChannelSender, _ message: OutgoingMessage,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> DeliveryError? {
        try await within(.seconds(30)) { () async throws -> DeliveryError? in
            do throws(DeliveryError) {
                let receipt = try await sender.deliver(message)
                Issue.record("expected a failure, got \(receipt.reply)", sourceLocation: sourceLocation)
                return nil
            } catch {
                return error
            }
        }
    }

    @Test func aCustomerGetsAPersonalMultipartEmailWithEncodedNames() async throws {
        let server = try EmailSMTPServer()
        let (sender, pool) = sender(server)
        let receipt = try await within(.seconds(30)) { try await sender.deliver(EmailFixtures.message()) }
        await pool.close()
        #expect(receipt.reply.hasPrefix("250 2.0.0 Ok: queued as M1"))

        let received = try #require(server.messages().first)
        #expect(server.messages().count == 1)
        #expect(received.from == "hello@rosies.example")
        #expect(received.recipients == ["zoe@customers.example"])
        let parsed = try ParsedEmail.parse(received.data)
        #expect(parsed.defects.isEmpty)
        #expect(parsed.contentType == "multipart/alternative")
        #expect(parsed.parts.map(\.type) == ["text/plain", "text/html"])
        #expect(parsed.subject == "Can't reach Rosie's Bäckerei 🥐 on Instagram and WhatsApp? Here's how to reach us")
        #expect(parsed.from?.first?.name == "Rosie's Bäckerei 🥐")
        #expect(parsed.to?.first?.name == "Zoë")
        #expect(parsed.to?.first?.address == "zoe@customers.example")
        #expect(parsed.replyTo?.first?.address == "rosie@rosies.example")
        #expect(parsed.header("Message-ID") == ["<dlv_01HQ7Z3K8M@rosies.example>"])
        #expect(parsed.header("Date").count == 1)
        #expect(parsed.header("List-Unsubscribe") == ["<https://detour.rosies.example/unsubscribe/tok_123>"])
        #expect(parsed.header("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"])
        #expect(parsed.text?.hasPrefix("Hi Zoë,\n") == true)
        #expect(parsed.text?.contains("Instagram is down. Call us or email us to order.") == true)
        #expect(parsed.html?.contains("<p>Hi Zoë,</p>") == true)
        #expect(parsed.longestLine <= 998)
        #expect(parsed.bareLineBreaks == 0)
    }

    @Test func aTemporaryRefusalIsRetryableAndTheRetryKeepsTheMessageID() async throws {
        let server = try EmailSMTPServer(["--tempfail-first", "1"])
        let (sender, pool) = sender(server)
        let message = EmailFixtures.message("dlv_retry_1")
        let error = try #require(try await expectFailure(sender, message))
        #expect(error.code == "smtp.temporary")
        #expect(error.retryable)
        #expect(error.message.contains("451 4.3.0 Mailbox busy, try again later"))
        #expect(error.message.contains("zoe@customers.example"))
        #expect(error.message.contains("'test-relay'"))

        _ = try await within(.seconds(30)) { try await sender.deliver(message) }
        _ = try await within(.seconds(30)) { try await sender.deliver(message) }
        await pool.close()
        let ids = try server.messages().map { try ParsedEmail.parse($0.data).header("Message-ID") }
        #expect(ids == [["<dlv_retry_1@rosies.example>"], ["<dlv_retry_1@rosies.example>"]])
    }

    @Test func aRefusedRecipientIsPermanentAndNamed() async throws {
        let server = try EmailSMTPServer(["--reject", "gone@customers.example"])
        let (sender, pool) = sender(server)
        let error = try #require(try await expectFailure(sender, EmailFixtures.message(to: "gone@customers.example")))
        await pool.close()
        #expect(error.code == "smtp.rejected")
        #expect(!error.retryable)
        #expect(error.message.contains("gone@customers.example"))
        #expect(error.message.contains("550 5.1.1"))
        #expect(error.message.contains("Recipient address rejected"))
        #expect(server.messages().isEmpty)
    }

    @Test func aRefusedRecipientErrorSaysTheChannelTheRecipientAndTheReplyOnce() async throws {
        let server = try EmailSMTPServer(["--reject", "gone@customers.example"])
        let (sender, pool) = sender(server)
        let error = try #require(try await expectFailure(sender, EmailFixtures.message(to: "gone@customers.example")))
        await pool.close()
        let reply = "550 5.1.1 <gone@customers.example>: Recipient address rejected: mailbox unavailable"
        #expect(error.message == "email for 'rosies-bakery' via SMTP server 'test-relay': \(server.url)/ answered RCPT TO with \(reply)")
        #expect(error.description == "smtp.rejected: \(error.message)")
        for once in ["gone@customers.example", reply, "test-relay", "rosies-bakery", "\(server.url)/"] {
            #expect(error.message.components(separatedBy: once).count == 2, "'\(once)' once in: \(error.message)")
        }
    }

    @Test func aTemporaryRefusalErrorNamesTheRecipientOnceAndDoesNotPromiseARetry() async throws {
        let server = try EmailSMTPServer(["--tempfail-first", "1"])
        let (sender, pool) = sender(server)
        let error = try #require(try await expectFailure(sender, EmailFixtures.message()))
        await pool.close()
        #expect(error.retryable)
        #expect(error.description == "smtp.temporary: email for 'rosies-bakery' via SMTP server 'test-relay' to zoe@customers.example: "
            + "\(server.url)/ answered DATA with 451 4.3.0 Mailbox busy, try again later")
        #expect(!error.description.contains("retry"), "only whoever records the outcome knows whether it is retried")
    }

    @Test func aUsernameForAServerThatOffersNoAUTHIsAPermanentLoginErrorThatNamesTheServerOnce() async throws {
        let password = "hunter2-s3cret"
        let server = try EmailSMTPServer(["--starttls", "--auth", "detour:\(password)", "--auth-after-tls"])
        let (sender, pool) = sender(server, username: "detour", password: password)
        let error = try #require(try await expectFailure(sender, EmailFixtures.message()))
        await pool.close()
        #expect(error.code == "smtp.auth")
        #expect(!error.retryable)
        #expect(error.message.hasPrefix("email for 'rosies-bakery' via SMTP server 'test-relay' to zoe@customers.example: "
            + "\(server.url)/ does not offer AUTH (its EHLO offers "))
        #expect(error.message.hasSuffix("but a username is set, so nothing was sent; servers often offer AUTH only after STARTTLS, so set starttls: required"))
        #expect(!error.description.contains(password))
        #expect(server.messages().isEmpty)
    }

    @Test func aDeliveryErrorDescriptionLeavesRetryingToWhoeverRecordsTheOutcome() {
        let error = DeliveryError(code: "smtp.temporary", message: "email for 'shop' via SMTP server 'relay' to a@b.example: busy", retryable: true)
        #expect(error.description == "smtp.temporary: email for 'shop' via SMTP server 'relay' to a@b.example: busy")
        #expect("gave up after 2 attempts: \(error)" == "gave up after 2 attempts: smtp.temporary: email for 'shop' via SMTP server 'relay' to a@b.example: busy")
    }

    @Test func requiredStartTLSAgainstAPlainServerFailsInsteadOfDowngrading() async throws {
        let server = try EmailSMTPServer()
        let (sender, pool) = sender(server, startTLS: .required)
        let error = try #require(try await expectFailure(sender, EmailFixtures.message()))
        await pool.close()
        #expect(error.code == "smtp.starttls")
        #expect(!error.retryable)
        #expect(error.message.contains("STARTTLS"))
        #expect(server.messages().isEmpty)
    }

    @Test func aHostileNameNeverBecomesAHeaderOrARecipient() async throws {
        let server = try EmailSMTPServer()
        let (sender, pool) = sender(server)
        _ = try await within(.seconds(30)) {
            try await sender.deliver(EmailFixtures.message(name: "Evil\r\nBcc: x@evil.test", text: "Closed.\r\nBcc: y@evil.test"))
        }
        await pool.close()
        let received = try #require(server.messages().first)
        #expect(received.recipients == ["zoe@customers.example"])
        let parsed = try ParsedEmail.parse(received.data)
        #expect(parsed.header("Bcc").isEmpty)
        #expect(parsed.to?.count == 1)
        #expect(parsed.to?.first?.name == "Evil Bcc: x@evil.test")
    }

    @Test func anAddressWithALineBreakIsRefusedBeforeTheServerSeesIt() async throws {
        let server = try EmailSMTPServer()
        let (sender, pool) = sender(server)
        let error = try #require(try await expectFailure(sender, EmailFixtures.message(to: "zoe@customers.example\r\nRCPT TO:<x@evil.test>")))
        await pool.close()
        #expect(error.code == "email.address")
        #expect(!error.retryable)
        #expect(!error.message.contains("\r") && !error.message.contains("\n"))
        #expect(server.messages().isEmpty)
    }

    @Test func aBrokenAllClearTemplateDoesNotStopOutageEmails() async throws {
        let server = try EmailSMTPServer()
        let dir = try TempDir("email-override")
        let refs = TemplateRefs(opened: try dir.write("opened.email", "Subject: {{business.name}} moved to email\n\nHi {{name}}, {{message}}\n"),
                                resolved: dir.file("missing.email"))
        let (sender, pool) = sender(server, templates: refs)
        _ = try await within(.seconds(30)) { try await sender.deliver(EmailFixtures.message()) }
        let error = try #require(try await expectFailure(sender, EmailFixtures.message("dlv_2", event: .resolved)))
        await pool.close()
        #expect(error.code == "email.template")
        #expect(!error.retryable)
        #expect(error.message.contains("missing.email"))
        let parsed = try ParsedEmail.parse(try #require(server.messages().first).data)
        #expect(server.messages().count == 1)
        #expect(parsed.subject == "Rosie's Bäckerei 🥐 moved to email")
        #expect(parsed.text?.hasPrefix("Hi Zoë, Instagram is down.") == true)
        #expect(parsed.html?.contains("<p>Hi Zoë, Instagram is down. Call us or email us to order.</p>") == true)
    }
}
