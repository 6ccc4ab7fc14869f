import ArgumentParser
import DetourConfig
import DetourDaemon
import Foundation
import Logging

/// `detour run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: watch, fail over, deliver.",
        discussion: """
        Loads the daemon file and every policy (refusing to start if any has an
        error), opens the state database, and runs until SIGTERM or SIGINT. Under
        systemd (Type=notify) it reports READY=1, STATUS= and WATCHDOG=1 itself.
        SIGHUP or `detour reload` re-reads every file; a broken file keeps the
        running configuration and the error shows in `detour status`.

        On SIGTERM it stops claiming deliveries, gives in-flight ones up to 20 s,
        hands the rest back to the queue, and exits 0. After a crash, the next
        start takes over the unfinished work at once.

        Examples:
          detour run --config /etc/detour/detour.yaml
          detour run --config examples/detour.yaml --log-level debug
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown log level '\(logLevel)'; use trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "detour")
        let environment = ProcessInfo.processInfo.environment
        let (loaded, diagnostics) = ConfigValidation.load(configPath: options.path, environment: environment)
        DiagnosticPrinter.print(diagnostics)
        guard let loaded else {
            Output.error("not starting: \(diagnostics.errors.count) error(s) in the configuration (above)",
                         hint: "fix them; `detour policy check --config \(options.path)` checks without starting")
            throw ExitCode(1)
        }
        do {
            try await DaemonApp(config: loaded, configPath: options.path, environment: environment, logger: logger).run()
        } catch let error as DaemonStartError {
            Output.error(error.message, hint: error.hint)
            throw ExitCode(1)
        } catch {
            Output.error("\(error)")
            throw ExitCode(1)
        }
    }
}
