import ArgumentParser
import DetourChannels
import DetourConfig
import DetourCore
import Foundation

/// `detour policy check`: validate the daemon file and every policy, report every problem, exit 1 on any error.
struct PolicyCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate detour.yaml and every policy.",
        usage: """
        detour policy check [--config <path>] [<file> ...] [--json]
        """,
        discussion: """
        Checks the daemon file and the policies it points at (or only the FILEs
        you name), including the audience CSVs, secret references and templates
        they refer to. Every problem in every file is reported in one run, as
        file:line:column with the key and a hint. Exits 0 when there is no error
        (warnings are allowed), 1 otherwise.

        --json prints one object to stdout instead: {"ok", "config", "policies",
        "errors", "warnings"}, each problem as {"file", "line", "column", "key",
        "message", "hint"}.

        Examples:
          detour policy check --config examples/detour.yaml
          detour policy check --config /etc/detour/detour.yaml \\
              /etc/detour/policies/bakery.yaml
          detour policy check --config examples/detour.yaml --json | jq .errors
        """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: ArgumentHelp("Policy files to check instead of the whole policies directory.", valueName: "file"))
    var files: [String] = []

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        var (loaded, diagnostics) = ConfigLoader().load(configPath: options.path, policyFiles: files.isEmpty ? nil : files)
        for policy in loaded?.policies ?? [] {
            let names = (loaded?.daemon.platforms ?? [:]).mapValues(\.displayName)
            for problem in TemplateCheck.problems(policy, platformNames: names) {
                diagnostics.error(policy.source.file, 0, 0, problem.keyPath, problem.message,
                                  hint: "fix the template; `channels/README.md` lists the variables")
            }
        }
        if diagnostics.hasErrors { loaded = nil }
        if json {
            let report = PolicyCheckReport(config: options.path, loaded: loaded, diagnostics: diagnostics)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            if !report.ok { throw ExitCode(1) }
            return
        }
        DiagnosticPrinter.print(diagnostics)
        let errors = diagnostics.errors.count, warnings = diagnostics.warnings.count
        let summary = "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
        if let loaded {
            for policy in loaded.policies {
                let names = loaded.daemon.platforms.mapValues(\.displayName)
                if let cost = SMSCost(policy, names: names) { print(cost.line(policy.business.rawValue)) }
                for post in PostLength.all(policy, names: names) { print(post.line(policy.business.rawValue)) }
            }
            let recipients = loaded.policies.reduce(0) { $0 + ($1.email?.audience.recipients.count ?? 0) }
            print("ok: \(options.path) and \(loaded.policies.count) polic\(loaded.policies.count == 1 ? "y" : "ies") (\(loaded.policies.map(\.business.rawValue).joined(separator: ", "))), \(recipients) email recipients; \(summary)")
        } else {
            print("failed: \(summary). Nothing was changed; fix the files above and run this again.")
            throw ExitCode(1)
        }
    }
}

/// What `detour policy check --json` prints. Every key is always present (`hint` may be null).
struct PolicyCheckReport: Encodable {
    struct PolicySummary: Encodable {
        var business: String
        var name: String
        var file: String
        var dependsOn: [String]
        var channels: [String]
        var emailRecipients: Int
        /// The texts' encoding and segments, and what one incident costs; null without an sms channel.
        @KeptNull var sms: SMSCost?
        /// Each social channel's post lengths against its platform's limit.
        var posts: [PostLength]
    }

    struct Problem: Encodable {
        var file: String
        var line: Int
        var column: Int
        var key: String
        var message: String
        @KeptNull var hint: String?

        init(_ d: Diagnostic) {
            file = d.file; line = d.line; column = d.column; key = d.keyPath; message = d.message; hint = d.hint
        }

    }

    var ok: Bool
    var config: String
    /// The policies that loaded; empty when there is any error (nothing loads then).
    var policies: [PolicySummary]
    var errors: [Problem]
    var warnings: [Problem]

    init(config: String, loaded: LoadedConfiguration?, diagnostics: Diagnostics) {
        self.config = config
        ok = loaded != nil && !diagnostics.hasErrors
        let names = (loaded?.daemon.platforms ?? [:]).mapValues(\.displayName)
        policies = (loaded?.policies ?? []).map { p in
            var channels: [String] = []
            if p.email != nil { channels.append("email") }
            if p.sms != nil { channels.append("sms") }
            if p.banner != nil { channels.append("banner") }
            if !p.webhooks.isEmpty { channels.append("webhook") }
            channels += p.social.map(\.kind.rawValue)
            return PolicySummary(business: p.business.rawValue, name: p.displayName, file: p.source.file,
                                 dependsOn: p.dependsOn.map(\.rawValue), channels: channels,
                                 emailRecipients: p.email?.audience.recipients.count ?? 0, sms: SMSCost(p, names: names), posts: PostLength.all(p, names: names))
        }
        let sorted = diagnostics.sorted
        errors = sorted.filter { $0.severity == .error }.map(Problem.init)
        warnings = sorted.filter { $0.severity == .warning }.map(Problem.init)
    }
}
