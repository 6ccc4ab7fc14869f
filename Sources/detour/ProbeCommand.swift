import ArgumentParser

/// `detour probe`: run one round of probes now (filled in by the health issue).
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Run one round of probes now and print each result and each platform's verdict."
    )
    @OptionGroup var options: ConfigOptions
    func run() async throws {
        throw ValidationError("not available yet")
    }
}
