import ArgumentParser
import DetourConfig

/// `--config PATH`, shared by every command that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The daemon file (detour.yaml).", valueName: "path"))
    var config: String?

    var path: String { config ?? ConfigLoaderDefaults.configPath }
}

enum ConfigLoaderDefaults {
    static var configPath: String { ConfigLoader.defaultConfigPath() }
}
