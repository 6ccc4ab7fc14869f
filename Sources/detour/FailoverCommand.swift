import ArgumentParser
import DetourDaemon
import Foundation

/// `detour failover start|stop`: take over from the probes.
struct FailoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Fail a business over by hand, or end its failover.",
        subcommands: [Start.self, Stop.self]
    )

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fail a business over now, without waiting for the probes or the grace period.",
            discussion: """
            Opens an incident at once and sends what the policy says (emails, banner, webhooks). It stays
            open until `detour failover stop`, whatever the probes say. If the probes had already opened an
            incident, you take it over. Recorded in the audit log with your uid.

            Example:
              detour failover start --business rosies-bakery --platform instagram --reason "DMs not arriving, Meta status page silent"
            """
        )
        @OptionGroup var daemon: DaemonOptions
        @Option(help: ArgumentHelp("The business id (its policy's `business:`).", valueName: "id")) var business: String
        @Option(help: ArgumentHelp("The platform that is down (repeatable; default: every platform the policy depends on).", valueName: "name"))
        var platform: [String] = []
        @Option(help: ArgumentHelp("Why: kept in the incident and the audit log.", valueName: "text")) var reason: String

        func validate() throws {
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must say why, for the audit log") }
        }

        func run() throws {
            let body = try daemon.send(.failoverStart, ["business": business, "platforms": platform.joined(separator: ","), "reason": reason])
            if daemon.json { Output.line(body) } else { Output.line(try daemon.decode(ActionResult.self, body).message) }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a business's failover: send the all-clear and take the banner down.",
            discussion: """
            Resolves the open incident (opened by hand or by the probes). If the probes still see the
            platform down, they will not reopen it until it has recovered at least once.

            Example:
              detour failover stop --business rosies-bakery
            """
        )
        @OptionGroup var daemon: DaemonOptions
        @Option(help: ArgumentHelp("The business id.", valueName: "id")) var business: String

        func run() throws {
            let body = try daemon.send(.failoverStop, ["business": business])
            if daemon.json { Output.line(body) } else { Output.line(try daemon.decode(ActionResult.self, body).message) }
        }
    }
}
