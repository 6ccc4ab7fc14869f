import ArgumentParser
import DetourChannels
import DetourConfig
import DetourCore
import DetourDaemon
import DetourTransport
import Foundation
import Logging

/// `detour send-test`: one real message through one configured channel, marked as a test.
struct SendTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send-test",
        abstract: "Send one real test message through a channel.",
        usage: """
        detour send-test --business <id> --channel <channel>
          [--to <address|number>] [--webhook <name>] [--config <path>] [--json]
        """,
        discussion: """
        Sends through a business's channel exactly as the daemon would (SMTP
        server, templates, webhook URL and signing secret, banner directory), with
        the "test" templates, so you can check the path end to end before an
        outage does. Nothing is written to the state database. Does not need the
        daemon.

          email    one email to --to (default: the policy's reply_to, else its
                   from address). Never the audience: a test must not reach
                   customers by accident.
          sms      one text to --to, a phone number in international form
                   (required: never the audience).
          webhook  one request to every webhook of the policy, or --webhook NAME.
          banner   publishes a test banner (marked "test") into publish_dir; it
                   expires after 2 minutes.
          telegram, mastodon, bluesky, google_business
                   one public post, marked [Test], on the business's own
                   account. It is really posted: delete it afterwards.

        --json prints one object to stdout: {"ok", "business", "channel", "sent",
        "error", "hint"}, with each attempt in "sent" as {"channel", "to", "ok",
        "reply", "error", "retryable"}. Exits 1 when anything failed.

        Examples:
          detour send-test --business rosies-bakery --channel email \\
              --to me@rosies.example
          detour send-test --business rosies-bakery --channel webhook \\
              --webhook staff-slack
          detour send-test --business rosies-bakery --channel banner --json
        """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("The business id.", valueName: "id")) var business: String
    @Option(help: ArgumentHelp("email, sms, webhook, banner, telegram, mastodon, bluesky or google_business.",
                                valueName: "channel")) var channel: String
    @Option(help: ArgumentHelp("Email: the address to send to. SMS: the number.", valueName: "address|number")) var to: String?
    @Option(help: ArgumentHelp("Webhook: only this webhook (its `name:`).", valueName: "name")) var webhook: String?
    @Flag(name: .long, help: "Print JSON instead of text.") var json = false

    func validate() throws {
        guard let kind = ChannelKind(rawValue: channel) else { throw ValidationError("--channel must be one of: \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        if let to, kind == .email, !EmailAddress.isValid(to) { throw ValidationError("--to '\(to)' is not an email address") }
        if let to, kind == .sms, PhoneNumber(to) == nil {
            throw ValidationError("--to '\(to)' is not a phone number in international form (+44 7700 900123)")
        }
        if kind == .sms, to == nil { throw ValidationError("--channel sms needs --to NUMBER (a test never goes to the audience)") }
        if to != nil, kind != .email, kind != .sms { throw ValidationError("--to is for --channel email or sms") }
        if webhook != nil, kind != .webhook { throw ValidationError("--webhook is for --channel webhook") }
    }

    /// Reports a problem that stops the test before anything is sent, and exits 1.
    private func fail(_ message: String, hint: String? = nil) throws -> Never {
        if json {
            let report = SendTestReport(ok: false, business: business, channel: channel, sent: [], error: message, hint: hint)
            Output.line(report.json())
        } else {
            Output.error(message, hint: hint)
        }
        throw ExitCode(1)
    }

    func run() async throws {
        let (loaded, diagnostics) = ConfigValidation.load(configPath: options.path, environment: ProcessInfo.processInfo.environment)
        guard let loaded else {
            DiagnosticPrinter.print(diagnostics)
            try fail("the configuration has \(diagnostics.errors.count) error(s) (on stderr)", hint: "`detour policy check` lists them")
        }
        guard let policy = loaded.policy(BusinessID(business)) else {
            try fail("no business '\(business)'", hint: "known: \(loaded.policies.map(\.business.rawValue).joined(separator: ", "))")
        }
        var logger = Logger(label: "detour.send-test")
        logger.logLevel = .critical
        let http = CurlHTTPClient(logger: logger)
        defer { http.shutdown() }
        let context = MessageContext(
            event: .test, businessID: policy.business.rawValue, businessName: policy.displayName, incidentID: "test",
            platforms: policy.dependsOn.map { loaded.daemon.platforms[$0]?.displayName ?? $0.rawValue }, since: Date(),
            message: policy.message.outage, contacts: policy.contacts)
        let id = "detour-test-\(Int(Date().timeIntervalSince1970))-\(UInt32.random(in: 0...UInt32.max))"

        var attempts: [(label: String, target: String, channel: any Channel, message: OutgoingMessage)] = []
        switch ChannelKind(rawValue: channel) ?? .email {
        case .email:
            guard let email = policy.email, let server = loaded.daemon.smtp[email.smtp] else {
                try fail("\(business) has no email channel")
            }
            let address = to ?? email.replyTo?.address ?? email.from.address
            var c = context
            c.recipientEmail = address
            c.unsubscribeURL = "\(loaded.daemon.http.publicURL)/unsubscribe"
            let pool = server.makePool(logger: logger)
            attempts.append(("email to \(address) via SMTP server '\(server.name)'", address,
                             EmailChannelSender(settings: email, server: server, pool: pool, logger: logger),
                             OutgoingMessage(deliveryID: id, recipient: address, context: c)))
        case .sms:
            guard let settings = policy.sms else { try fail("\(business) has no sms channel") }
            let number = to.flatMap(PhoneNumber.init)?.e164 ?? ""
            do {
                let sender = try SMSSender(settings: settings, network: loaded.daemon.webhooks, client: http, logger: logger)
                attempts.append(("text to \(number) via \(settings.provider.name)", number, sender,
                                 OutgoingMessage(deliveryID: id, recipient: number, context: context)))
            } catch {
                try fail("sms: \(error)")
            }
        case .webhook:
            let hooks = policy.webhooks.filter { webhook == nil || $0.name == webhook }
            guard !hooks.isEmpty else {
                try fail(webhook.map { "\(business) has no webhook named '\($0)'" } ?? "\(business) has no webhooks",
                         hint: policy.webhooks.isEmpty ? "add one under channels.webhooks in its policy"
                             : "its webhooks: \(policy.webhooks.map(\.name).joined(separator: ", "))")
            }
            for hook in hooks {
                do {
                    let sender = try WebhookSender(webhook: hook, network: loaded.daemon.webhooks, client: http, logger: logger)
                    attempts.append(("webhook \(hook.name) (\(hook.format.rawValue))", hook.name, sender,
                                     OutgoingMessage(deliveryID: id, recipient: hook.name, context: context)))
                } catch {
                    try fail("webhook \(hook.name): \(error)")
                }
            }
        case .telegram, .mastodon, .bluesky, .googleBusiness:
            let kind = ChannelKind(rawValue: channel) ?? .telegram
            guard let social = policy.social.first(where: { $0.kind == kind }) else {
                try fail("\(business) has no \(kind.rawValue) channel", hint: "add channels.\(kind.rawValue) to its policy")
            }
            do {
                let poster = try SocialPosters.make(social, network: loaded.daemon.webhooks, client: http, logger: logger)
                attempts.append(("public post on \(kind.rawValue)", kind.rawValue, poster,
                                 OutgoingMessage(deliveryID: id, recipient: kind.rawValue, context: context)))
            } catch {
                try fail("\(kind.rawValue): \(error)")
            }
        case .banner:
            guard let settings = policy.banner else { try fail("\(business) has no banner channel") }
            do {
                let publisher = try BannerPublisher(business: policy.business, businessName: policy.displayName, settings: settings,
                                                    state: BannerState(), ttl: .seconds(120))
                // Read what is published now, so a test never replaces a real outage banner.
                try await publisher.prepare()
                attempts.append(("banner in \(settings.publishDir)", settings.publishDir, publisher,
                                 OutgoingMessage(deliveryID: id, recipient: policy.business.rawValue, context: context)))
            } catch {
                try fail("banner: \(error)")
            }
        }

        var sent: [SendTestReport.Attempt] = []
        for attempt in attempts {
            if !json { Output.progress("sending test \(attempt.label)…") }
            do {
                let receipt = try await attempt.channel.deliver(attempt.message)
                sent.append(.init(channel: channel, to: attempt.target, ok: true, reply: receipt.reply, error: nil, retryable: nil))
                if !json { Output.line("ok: \(attempt.label): \(receipt.reply)") }
            } catch {
                sent.append(.init(channel: channel, to: attempt.target, ok: false, reply: nil, error: error.message, retryable: error.retryable))
                if !json {
                    // The channel's message names the channel, the recipient and the server's reply.
                    Output.line("failed: \(error.message)\(error.retryable ? " (temporary: the daemon would retry)" : "")")
                }
            }
        }
        let ok = sent.allSatisfy(\.ok)
        if json { Output.line(SendTestReport(ok: ok, business: business, channel: channel, sent: sent, error: nil, hint: nil).json()) }
        if !ok { throw ExitCode(1) }
    }
}

/// What `detour send-test --json` prints. Every key is always present (null when it does not apply).
struct SendTestReport: Encodable {
    /// One message sent: where to, and what the server answered or why it failed.
    struct Attempt: Encodable {
        var channel: String
        /// The address, the webhook's name, or the banner's directory.
        var to: String
        var ok: Bool
        @KeptNull var reply: String?
        @KeptNull var error: String?
        /// For a failure: whether the daemon would retry it.
        @KeptNull var retryable: Bool?
    }

    var ok: Bool
    var business: String
    var channel: String
    var sent: [Attempt]
    /// Why nothing was sent (a configuration problem, an unknown business or channel).
    @KeptNull var error: String?
    @KeptNull var hint: String?

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return #"{"ok":false,"error":"cannot encode the report"}"# }
        return String(decoding: data, as: UTF8.self)
    }
}
