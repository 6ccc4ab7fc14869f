import ArgumentParser
import DetourCore
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

    func validate() throws {
        if business.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--business must name a business") }
    }

    func run() throws {
        try daemon.perform(.release(business: BusinessID(business)))
    }
}
