import ArgumentParser
import DetourConfig
import DetourDaemon
import Foundation

/// `--config` and `--socket` for commands that talk to the running daemon.
struct DaemonOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("The daemon's control socket (default: `control.socket` from the config file, else /run/detour/control.sock).", valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    /// The socket path: --socket, else the one the daemon file names, else the systemd default.
    var socketPath: String {
        if let socket { return socket }
        if let path = ConfigLoader.controlSocket(configPath: config.path) { return path }
        if let dir = ProcessInfo.processInfo.environment["RUNTIME_DIRECTORY"], !dir.isEmpty { return dir + "/control.sock" }
        return "/run/detour/control.sock"
    }

    /// Sends one request and returns what `answer` takes from the daemon's response. Prints the
    /// daemon's refusal and exits 1 (2 when it did not understand the request); exits 2 when there
    /// is no daemon or no answer, or an answer of another kind.
    func send<T>(_ request: ControlRequest, timeout: Duration = .seconds(30), answer: (ControlResponse) -> T?) throws -> T {
        let client = ControlClient(path: socketPath)
        let response: ControlResponse
        do {
            response = try client.send(request, timeout: timeout)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        if case .failure(let failure) = response {
            Output.error(failure.message, hint: failure.hint)
            throw ExitCode(failure.code == .badRequest ? 2 : 1)
        }
        guard let value = answer(response) else {
            Output.error("the daemon answered '\(response.name?.rawValue ?? "?")' to '\(request.name.rawValue)'; is the CLI the same version as the daemon?")
            throw ExitCode(2)
        }
        return value
    }

    /// Sends a manual action and prints the daemon's sentence (`{"message": …}` with --json).
    func perform(_ request: ControlRequest, timeout: Duration = .seconds(30)) throws {
        let message = try send(request, timeout: timeout, answer: \.message)
        if json { try printJSON(ActionResult(message: message)) } else { Output.line(message) }
    }

    /// `value` as --json prints it.
    func printJSON<T: Encodable>(_ value: T) throws {
        do { Output.line(try ControlJSON.encode(value)) } catch {
            Output.error("cannot print the daemon's answer as JSON: \(error)")
            throw ExitCode(2)
        }
    }
}
