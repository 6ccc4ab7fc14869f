import ArgumentParser
import DetourCore
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
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let query = IncidentFilter(business: business.map { BusinessID($0) }, state: state.flatMap { IncidentState(rawValue: $0) }, limit: limit)
        let list = try daemon.send(.incidents(query), answer: \.incidentList)
        if daemon.json { try daemon.printJSON(list); return }
        if list.isEmpty { Output.line("no incidents\(business.map { " for \($0)" } ?? "")"); return }
        Output.table(["id", "business", "state", "opened", "by", "platforms", "resolved", "reason"], list.map { i in
            [String(i.id), i.business.rawValue, i.state.rawValue, Output.time(i.openedAt), i.openedBy,
             i.platforms.map(\.rawValue).joined(separator: ","),
             i.resolvedAt.map { "\(Output.time($0)) by \(i.resolvedBy ?? "?")" } ?? "-", i.reason]
        })
    }
}
