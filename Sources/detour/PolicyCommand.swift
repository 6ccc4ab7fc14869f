import ArgumentParser

/// `detour policy …`: check and inspect configuration files.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check and inspect the daemon file and the business policies.",
        subcommands: [PolicyCheck.self, PolicyShow.self]
    )
}
