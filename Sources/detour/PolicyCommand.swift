import ArgumentParser

/// `detour policy …`: check and inspect configuration files.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check and inspect detour.yaml and the policies.",
        discussion: """
        Examples:
          detour policy check --config examples/detour.yaml
          detour policy show rosies-bakery --config examples/detour.yaml
        """,
        subcommands: [PolicyCheck.self, PolicyShow.self]
    )
}
