import ArgumentParser
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

    func run() throws {
        var args = ["business": business, "reason": reason]
        if let duration { args["for"] = duration }
        let body = try daemon.send(.hold, args)
        if daemon.json { Output.line(body) } else { Output.line(try daemon.decode(ActionResult.self, body).message) }
    }
}
