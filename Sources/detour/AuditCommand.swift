import ArgumentParser
import DetourCore
import DetourDaemon
import DetourStore
import Foundation

/// `detour audit`: who did what, when.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Who did what, and when: the audit log, newest first.",
        usage: """
        detour audit [--business <id>] [--limit <limit>]
          [--config <path>] [--socket <path>] [--json]
        """,
        discussion: """
        Every manual action (failovers started and stopped by hand, holds and
        releases, requeued deliveries, reloads) and every change the daemon made
        on its own (policies loaded, changed, removed or rejected, webhooks
        switched off). Each entry says when, who, what, for which business, and
        the details. Who is the caller's uid and login name, as the kernel told
        the daemon on its control socket, or SIGHUP, probes or detour.

        Examples:
          detour audit
          detour audit --business rosies-bakery --limit 10
          detour audit --json | jq '.[] | select(.actor | startswith("uid 1000"))'
        """
    )
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("Only this business.", valueName: "id")) var business: String?
    @Option(help: "At most this many.") var limit: Int = 50

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let entries = try daemon.send(.audit(AuditQuery(business: business.map { BusinessID($0) }, limit: limit)), answer: \.auditList)
        if daemon.json { try daemon.printJSON(entries); return }
        if entries.isEmpty { Output.line("nothing in the audit log\(business.map { " for \($0)" } ?? "")"); return }
        Output.table(["when", "who", "action", "business"], entries.map { entry in
            let incident = entry.incident.map { "incident \($0): " } ?? ""
            return (cells: [Output.time(entry.at), entry.actor, entry.action, entry.business?.rawValue ?? "-"],
                    note: incident + entry.detail)
        }, width: 80)
    }
}
