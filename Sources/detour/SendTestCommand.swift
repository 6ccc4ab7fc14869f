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
        abstract: "Send one real test message through a business's channel and print what the server answered.",
        discussion: """
        Uses the business's policy exactly as the daemon would (SMTP server, templates, webhook URL and
        signing secret, banner directory), with the "test" templates, so you can check the path end to
        end before an outage does. Nothing is written to the state database. Does not need the daemon.

          email    one email to --to (default: the policy's reply_to, else its from address).
                   Never the audience: a test must not reach customers by accident.
          webhook  one request to every webhook of the policy, or --webhook NAME.
          banner   publishes a test banner (marked "test") into publish_dir; it expires after 2 minutes.

        Examples:
          detour send-test --business rosies-bakery --channel email --to me@rosies.example
          detour send-test --business rosies-bakery --channel webhook --webhook staff-slack
          detour send-test --business rosies-bakery --channel banner
        """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("The business id.", valueName: "id")) var business: String
    @Option(help: ArgumentHelp("email, webhook or banner.", valueName: "channel")) var channel: String
    @Option(help: ArgumentHelp("Email: the address to send to.", valueName: "address")) var to: String?
    @Option(help: ArgumentHelp("Webhook: only this webhook (its `name:`).", valueName: "name")) var webhook: String?

    func validate() throws {
        guard let kind = ChannelKind(rawValue: channel) else { throw ValidationError("--channel must be email, webhook or banner") }
        if let to, !EmailAddress.isValid(to) { throw ValidationError("--to '\(to)' is not an email address") }
        if to != nil, kind != .email { throw ValidationError("--to is for --channel email") }
        if webhook != nil, kind != .webhook { throw ValidationError("--webhook is for --channel webhook") }
    }

    func run() async throws {
        let (loaded, diagnostics) = ConfigValidation.load(configPath: options.path, environment: ProcessInfo.processInfo.environment)
        guard let loaded else {
            DiagnosticPrinter.print(diagnostics)
            Output.error("the configuration has errors (above)", hint: "`detour policy check` lists them")
            throw ExitCode(1)
        }
        guard let policy = loaded.policy(BusinessID(business)) else {
            Output.error("no business '\(business)'", hint: "known: \(loaded.policies.map(\.business.rawValue).joined(separator: ", "))")
            throw ExitCode(1)
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

        var attempts: [(label: String, channel: any Channel, message: OutgoingMessage)] = []
        switch ChannelKind(rawValue: channel) ?? .email {
        case .email:
            guard let email = policy.email, let server = loaded.daemon.smtp[email.smtp] else {
                Output.error("\(business) has no email channel"); throw ExitCode(1)
            }
            let address = to ?? email.replyTo?.address ?? email.from.address
            var c = context
            c.recipientEmail = address
            c.unsubscribeURL = "\(loaded.daemon.http.publicURL)/unsubscribe"
            let pool = server.makePool(logger: logger)
            attempts.append(("email to \(address) via SMTP server '\(server.name)'",
                             EmailChannelSender(settings: email, server: server, pool: pool, logger: logger),
                             OutgoingMessage(deliveryID: id, recipient: address, context: c)))
        case .webhook:
            let hooks = policy.webhooks.filter { webhook == nil || $0.name == webhook }
            guard !hooks.isEmpty else {
                Output.error(webhook.map { "\(business) has no webhook named '\($0)'" } ?? "\(business) has no webhooks",
                             hint: "its webhooks: \(policy.webhooks.map(\.name).joined(separator: ", "))")
                throw ExitCode(1)
            }
            for hook in hooks {
                do {
                    let sender = try WebhookSender(webhook: hook, network: loaded.daemon.webhooks, client: http, logger: logger)
                    attempts.append(("webhook \(hook.name) (\(hook.format.rawValue))", sender,
                                     OutgoingMessage(deliveryID: id, recipient: hook.name, context: context)))
                } catch {
                    Output.error("webhook \(hook.name): \(error)"); throw ExitCode(1)
                }
            }
        case .banner:
            guard let settings = policy.banner else { Output.error("\(business) has no banner channel"); throw ExitCode(1) }
            do {
                let publisher = try BannerPublisher(business: policy.business, businessName: policy.displayName, settings: settings,
                                                    state: BannerState(), ttl: .seconds(120))
                attempts.append(("banner in \(settings.publishDir)", publisher,
                                 OutgoingMessage(deliveryID: id, recipient: policy.business.rawValue, context: context)))
            } catch {
                Output.error("banner: \(error)"); throw ExitCode(1)
            }
        }

        var failed = 0
        for attempt in attempts {
            Output.progress("sending test \(attempt.label)…")
            do {
                let receipt = try await attempt.channel.deliver(attempt.message)
                Output.line("ok: \(attempt.label): \(receipt.reply)")
            } catch {
                failed += 1
                Output.line("failed: \(attempt.label): \(error.message)\(error.retryable ? " (temporary: the daemon would retry)" : "")")
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
