import ArgumentParser
import DetourChannels
import DetourConfig
import DetourCore
import Foundation

/// `detour policy check`: validate the daemon file and every policy, report every problem, exit 1 on any error.
struct PolicyCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate detour.yaml and every policy; print every problem with file:line:column.",
        discussion: """
        Checks the daemon file and the policies it points at (or only the FILEs you name), including the
        audience CSVs, secret references and templates they refer to. All problems in all files are
        reported in one run. Exits 0 when there is no error (warnings are allowed), 1 otherwise.

        Examples:
          detour policy check --config examples/detour.yaml
          detour policy check --config /etc/detour/detour.yaml /etc/detour/policies/bakery.yaml
        """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: ArgumentHelp("Policy files to check instead of the whole policies directory.", valueName: "file"))
    var files: [String] = []

    func run() throws {
        var (loaded, diagnostics) = ConfigLoader().load(configPath: options.path, policyFiles: files.isEmpty ? nil : files)
        for policy in loaded?.policies ?? [] {
            for problem in TemplateCheck.problems(policy) {
                diagnostics.error(policy.source.file, 0, 0, problem.keyPath, problem.message,
                                  hint: "fix the template; `channels/README.md` lists the variables")
            }
        }
        if diagnostics.hasErrors { loaded = nil }
        DiagnosticPrinter.print(diagnostics)
        let errors = diagnostics.errors.count, warnings = diagnostics.warnings.count
        let summary = "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
        if let loaded {
            let recipients = loaded.policies.reduce(0) { $0 + ($1.email?.audience.recipients.count ?? 0) }
            print("ok: \(options.path) and \(loaded.policies.count) polic\(loaded.policies.count == 1 ? "y" : "ies") (\(loaded.policies.map(\.business.rawValue).joined(separator: ", "))), \(recipients) email recipients; \(summary)")
        } else {
            print("failed: \(summary). Nothing was changed; fix the files above and run this again.")
            throw ExitCode(1)
        }
    }
}
