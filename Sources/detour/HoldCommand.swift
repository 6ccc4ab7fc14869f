import ArgumentParser
import DetourCore
import DetourDaemon
import Foundation

/// `detour hold`: a maintenance window.
struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Keep the probes from failing a business over.",
        usage: """
        detour hold --business <id> --reason <text> [--for <duration>]
          [--config <path>] [--socket <path>] [--json]
        """,
        discussion: """
        For maintenance windows and known false alarms. A manual
        `detour failover start` still works. Recorded in the audit log with your
        uid. `detour release` ends a hold early.

        --for takes units from d, h, m and s, largest first: 45m, 2h, 1h30m, 3d
        (at most 366d). The hold starts when the daemon receives it.

        Example:
          detour hold --business glow-salon --for 2h \\
              --reason "WhatsApp number migration tonight"
        """
    )
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("The business id.", valueName: "id")) var business: String
    @Option(name: .customLong("for"), help: ArgumentHelp("How long, like 30m or 2h (default: until `detour release`).", valueName: "duration"))
    var duration: String?
    @Option(help: ArgumentHelp("Why: kept in the audit log.", valueName: "text")) var reason: String

    /// `--for` in seconds; nil when it is not given (or not a duration, which `validate()` refuses).
    var seconds: Double? {
        duration.flatMap { TimeSpan(parsing: $0) }.map(\.seconds)
    }

    func validate() throws {
        if business.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--business must name a business") }
        if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must say why, for the audit log") }
        if let duration {
            guard let span = TimeSpan(parsing: duration) else {
                throw ValidationError("--for '\(duration)' is not a duration; write it like 30m, 2h or 1h30m (units: d, h, m, s)")
            }
            guard span.milliseconds > 0 else {
                throw ValidationError("--for must be longer than 0s; leave it out to hold until `detour release`")
            }
            guard span <= Hold.longest else {
                throw ValidationError("--for \(duration) is longer than \(Hold.longest); leave it out to hold until `detour release`")
            }
        }
    }

    func run() throws {
        try daemon.perform(.hold(Hold(business: BusinessID(business), reason: reason, seconds: seconds)))
    }
}
