import ArgumentParser
import DetourDaemon
import Foundation

/// `detour release`: end a hold.
struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "End a hold: the probes may fail over again.",
        usage: """
        detour release --business <id>
          [--config <path>] [--socket <path>] [--json]
        """,
        discussion: "Example:\n  detour release --business glow-salon"
    )
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("The business id.", valueName: "id")) var business: String

    func run() throws {
        let body = try daemon.send(.release, ["business": business])
        if daemon.json { Output.line(body) } else { Output.line(try daemon.decode(ActionResult.self, body).message) }
    }
}
