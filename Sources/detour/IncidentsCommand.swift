import ArgumentParser
import DetourDaemon
import DetourStore
import Foundation

/// `detour incidents`: the failover history.
struct IncidentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "List incidents, newest first.",
        usage: """
        detour incidents [--business <id>] [--state <state>] [--limit <limit>]
          [--config <path>] [--socket <path>] [--json]
        """,
        discussion: """
        Examples:
          detour incidents
          detour incidents --business rosies-bakery --state open
          detour incidents --json | jq '.[0]'
        """
    )
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("Only this business.", valueName: "id")) var business: String?
    @Option(help: ArgumentHelp("open or resolved.", valueName: "state")) var state: String?
    @Option(help: "At most this many.") var limit: Int = 50

    func validate() throws {
        if let state, IncidentState(rawValue: state) == nil { throw ValidationError("--state must be open or resolved") }
    }

    func run() throws {
        var args = ["limit": "\(limit)"]
        if let business { args["business"] = business }
        if let state { args["state"] = state }
        let body = try daemon.send(.incidents, args)
        if daemon.json { Output.line(body); return }
        let list = try daemon.decode([IncidentRecord].self, body)
        if list.isEmpty { Output.line("no incidents\(business.map { " for \($0)" } ?? "")"); return }
        Output.table(["id", "business", "state", "opened", "by", "platforms", "resolved", "reason"], list.map { i in
            [String(i.id), i.business.rawValue, i.state.rawValue, Output.time(i.openedAt), i.openedBy,
             i.platforms.map(\.rawValue).joined(separator: ","),
             i.resolvedAt.map { "\(Output.time($0)) by \(i.resolvedBy ?? "?")" } ?? "-", i.reason]
        })
    }
}
