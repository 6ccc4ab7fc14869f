import ArgumentParser
import DetourCore
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
            abstract: "Fail a business over now, without probes or grace.",
            usage: """
            detour failover start --business <id> --reason <text>
              [--platform <name> ...] [--new-incident]
              [--config <path>] [--socket <path>] [--json]
            """,
            discussion: """
            Opens an incident at once and sends what the policy says (emails, banner,
            webhooks). It stays open until `detour failover stop`, whatever the probes
            say. If the probes had already opened an incident, you take it over.
            Recorded in the audit log with your uid.

            A start within the policy's `cooldown` of the business's last incident
            continues that incident, as a platform that fails again within the
            cooldown does. --new-incident opens a new incident instead: for an
            outage that has nothing to do with the last one.

            Examples:
              detour failover start --business rosies-bakery --platform instagram \\
                  --reason "DMs not arriving, Meta status page silent"
              detour failover start --business rosies-bakery --new-incident \\
                  --reason "Instagram down again, a different outage"
            """
        )
        @OptionGroup var daemon: DaemonOptions
        @Option(help: ArgumentHelp("The business id (its policy's `business:`).", valueName: "id")) var business: String
        @Option(help: ArgumentHelp("The platform that is down (repeatable; default: every platform the policy depends on).", valueName: "name"))
        var platform: [String] = []
        @Option(help: ArgumentHelp("Why: kept in the incident and the audit log.", valueName: "text")) var reason: String
        @Flag(help: "Open a new incident even within the cooldown of the last one (which a start would otherwise continue).")
        var newIncident = false

        func validate() throws {
            if business.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--business must name a business") }
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must say why, for the audit log") }
        }

        func run() throws {
            try daemon.perform(.failoverStart(FailoverStart(
                business: BusinessID(business), platforms: platform.map { PlatformID($0) }, reason: reason, newIncident: newIncident)))
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a failover: the all-clear, the banner down.",
            usage: """
            detour failover stop --business <id>
              [--config <path>] [--socket <path>] [--json]
            """,
            discussion: """
            Resolves the open incident (opened by hand or by the probes). If the probes
            still see the platform down, they will not reopen it until it has
            recovered at least once.

            Example:
              detour failover stop --business rosies-bakery
            """
        )
        @OptionGroup var daemon: DaemonOptions
        @Option(help: ArgumentHelp("The business id.", valueName: "id")) var business: String

        func validate() throws {
            if business.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--business must name a business") }
        }

        func run() throws {
            try daemon.perform(.failoverStop(business: BusinessID(business)))
        }
    }
}
