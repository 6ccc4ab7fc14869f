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

/// `detour hold`: a maintenance window.
struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Stop the probes from failing a business over, for a while.",
        discussion: """
        For maintenance windows and known false alarms. A manual `failover start` still works.
        Recorded in the audit log with your uid.

        Example:
          detour hold --business glow-salon --for 2h --reason "WhatsApp number migration tonight"
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

/// `detour release`: end a hold.
struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "End a hold: the probes may fail the business over again.",
        discussion: "Example:\n  detour release --business glow-salon"
    )
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("The business id.", valueName: "id")) var business: String

    func run() throws {
        let body = try daemon.send(.release, ["business": business])
        if daemon.json { Output.line(body) } else { Output.line(try daemon.decode(ActionResult.self, body).message) }
    }
}

/// `detour reload`: what SIGHUP does, with the answer.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Re-read detour.yaml and every policy; a broken file keeps the running configuration.",
        discussion: "Same as `systemctl reload detour` (SIGHUP), but prints the result. Exits 1 when the reload is refused."
    )
    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let body = try daemon.send(.reload, timeout: .seconds(120))
        if daemon.json { Output.line(body) } else { Output.line(try daemon.decode(ActionResult.self, body).message) }
    }
}
