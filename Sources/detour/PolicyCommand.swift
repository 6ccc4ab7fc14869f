import ArgumentParser
import DetourConfig
import DetourCore
import Foundation

enum ConfigLoaderDefaults {
    static var configPath: String { ConfigLoader.defaultConfigPath() }
}

/// `detour policy …`: check and inspect configuration files.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check and inspect the daemon file and the business policies.",
        subcommands: [PolicyCheck.self, PolicyShow.self]
    )
}

/// Prints diagnostics the way compilers do, so editors and CI logs can point at them.
enum DiagnosticPrinter {
    static func print(_ diagnostics: Diagnostics) {
        for d in diagnostics.sorted {
            FileHandle.standardError.write(Data((d.description + "\n").utf8))
        }
    }
}
