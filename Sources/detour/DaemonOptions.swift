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
        let (loaded, _) = ConfigLoader().load(configPath: config.path, policyFiles: [])
        if let path = loaded?.daemon.control.path { return path }
        if let dir = ProcessInfo.processInfo.environment["RUNTIME_DIRECTORY"], !dir.isEmpty { return dir + "/control.sock" }
        return "/run/detour/control.sock"
    }

    /// Sends one command and returns the response body, or prints the daemon's error and exits 1.
    func send(_ command: ControlCommand, _ arguments: [String: String] = [:], timeout: Duration = .seconds(30)) throws -> String {
        let client = ControlClient(path: socketPath)
        let response: ControlResponse
        do {
            response = try client.send(ControlRequest(command: command.rawValue, arguments: arguments), timeout: timeout)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        guard response.ok else {
            Output.error(response.error ?? "the daemon refused the command", hint: response.hint)
            throw ExitCode(1)
        }
        return response.body ?? ""
    }

    func decode<T: Decodable>(_ type: T.Type, _ body: String) throws -> T {
        do { return try ControlJSON.decode(type, from: body) } catch {
            Output.error("cannot read the daemon's answer (\(error)); is the CLI the same version as the daemon?")
            throw ExitCode(2)
        }
    }
}
