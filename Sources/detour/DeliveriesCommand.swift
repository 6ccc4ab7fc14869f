import ArgumentParser
import DetourCore
import DetourDaemon
import DetourStore
import Foundation

/// `detour deliveries`: the outbox.
struct DeliveriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "List the outbox, or requeue failed deliveries.",
        discussion: """
        Every message Detour promised is a delivery: queued, sending, sent, failed
        (will retry) or dead (gave up; the last error says why, with the server's
        reply).

        Examples:
          detour deliveries --state dead
          detour deliveries --business rosies-bakery --incident 3
          detour deliveries retry 41 42
          detour deliveries retry --dead
        """,
        subcommands: [List.self, Retry.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List deliveries, newest first.",
            usage: """
            detour deliveries [list] [--business <id>] [--incident <id>]
              [--state <state>] [--channel <channel>] [--limit <limit>]
              [--config <path>] [--socket <path>] [--json]
            """
        )
        @OptionGroup var daemon: DaemonOptions
        @Option(help: ArgumentHelp("Only this business.", valueName: "id")) var business: String?
        @Option(help: ArgumentHelp("Only this incident.", valueName: "id")) var incident: Int64?
        @Option(help: ArgumentHelp("queued, sending, sent, failed or dead.", valueName: "state")) var state: String?
        @Option(help: ArgumentHelp("email, sms, webhook, banner, telegram, mastodon, bluesky or google_business.",
                                   valueName: "channel")) var channel: String?
        @Option(help: "At most this many.") var limit: Int = 200

        func validate() throws {
            if let state, DeliveryState(rawValue: state) == nil { throw ValidationError("--state must be one of queued, sending, sent, failed, dead") }
            if let channel, ChannelKind(rawValue: channel) == nil { throw ValidationError("--channel must be one of: \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))") }
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let query = DeliveryFilter(business: business.map { BusinessID($0) }, incident: incident,
                                      state: state.flatMap { DeliveryState(rawValue: $0) },
                                      channel: channel.flatMap { ChannelKind(rawValue: $0) }, limit: limit)
            let list = try daemon.send(.deliveries(query), answer: \.deliveryList)
            if daemon.json { try daemon.printJSON(list); return }
            if list.isEmpty { Output.line("no deliveries match"); return }
            Output.table(["id", "incident", "business", "event", "channel", "to", "state", "attempts", "last"], list.map { d in
                [String(d.id), String(d.incident), d.business.rawValue, d.event.rawValue, d.channel.rawValue, d.target, d.state.rawValue,
                 String(d.attempts), (d.state == .sent ? d.reply : d.lastError).map { String($0.prefix(100)) } ?? "-"]
            })
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Requeue deliveries by id, or every dead one.",
            usage: """
            detour deliveries retry <ids> ...
            detour deliveries retry --dead [--business <id>]
              [--config <path>] [--socket <path>] [--json]
            """
        )
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "Delivery ids.") var ids: [Int64] = []
        @Flag(help: "Requeue every dead delivery.") var dead = false
        @Option(help: ArgumentHelp("With --dead: only this business.", valueName: "id")) var business: String?

        func validate() throws {
            if ids.isEmpty == !dead { throw ValidationError("name delivery ids, or pass --dead (not both)") }
            if business != nil && !dead { throw ValidationError("--business goes with --dead; delivery ids name their business already") }
        }

        func run() throws {
            try daemon.perform(.retry(dead ? .dead(business: business.map { BusinessID($0) }) : .ids(ids)))
        }
    }
}
