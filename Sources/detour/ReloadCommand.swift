import ArgumentParser
import DetourDaemon
import Foundation

/// `detour reload`: what SIGHUP does, with the answer.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Re-read detour.yaml and every policy, as SIGHUP does.",
        discussion: """
        Same as `systemctl reload detour` (SIGHUP), but prints the result. Every
        file is checked first: a broken one keeps the running configuration, and
        the command exits 1 with the reason.

        Example:
          detour reload
        """
    )
    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        try daemon.perform(.reload, timeout: .seconds(120))
    }
}
