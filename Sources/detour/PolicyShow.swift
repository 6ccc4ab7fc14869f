import ArgumentParser
import DetourConfig
import DetourCore
import Foundation

/// `detour policy show`: the effective policy of one business after defaults and references, secrets redacted.
struct PolicyShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print one business's effective policy.",
        usage: """
        detour policy show <business> [--config <path>] [--json]
        """,
        discussion: """
        Shows what Detour will actually do for a business, in the language of
        the policy file: every key with its default filled in, durations like
        `3m`, paths as the file writes them, and where each secret comes from
        (`env:NAME`, a `*_file` path, or `<secret from inline …>`, never the
        secret itself). What it uses from the daemon file (the platforms it
        watches for it, with their probes and thresholds, and the SMTP server)
        follows as comments in detour.yaml's own keys, so the whole output can be
        pasted into a policy file.

        --json prints the policy as JSON for scripts, in Detour's field names.

        Examples:
          detour policy show rosies-bakery --config examples/detour.yaml
          detour policy show rosies-bakery --json | jq .policy.email
        """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: ArgumentHelp("The business id (the `business:` key of its policy).", valueName: "business"))
    var business: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let (loaded, diagnostics) = ConfigLoader().load(configPath: options.path)
        guard let loaded else {
            DiagnosticPrinter.print(diagnostics)
            print("failed: the configuration has errors; run `detour policy check` and fix them first.")
            throw ExitCode(1)
        }
        guard let policy = loaded.policy(BusinessID(business)) else {
            let ids = loaded.policies.map(\.business.rawValue)
            throw ValidationError("no business '\(business)' in \(loaded.daemon.policiesDir). Known: \(ids.joined(separator: ", "))")
        }
        let view = EffectivePolicy(policy: policy, daemon: loaded.daemon)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(view), as: UTF8.self))
        } else {
            print(PolicyYAML.render(policy, platforms: view.platforms, smtp: view.smtp, daemonFile: loaded.daemon.file), terminator: "")
        }
    }
}

/// The policy with what it refers to in the daemon file filled in.
struct EffectivePolicy: Encodable {
    var policy: Policy
    var platforms: [PlatformSpec]
    var smtp: SMTPServer?

    init(policy: Policy, daemon: DaemonConfig) {
        self.policy = policy
        platforms = policy.dependsOn.compactMap { daemon.platforms[$0] }
        smtp = policy.email.flatMap { daemon.smtp[$0.smtp] }
    }
}
