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

/// Where the CLI writes: results to stdout, problems to stderr.
enum Output {
    static func line(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
    static func error(_ message: String, hint: String? = nil) {
        var text = "error: \(message)\n"
        if let hint { text += "  hint: \(hint)\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }
    static func progress(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    static func ago(_ date: Date, now: Date = Date()) -> String {
        let s = max(0, Int(now.timeIntervalSince(date)))
        if s < 60 { return "\(s)s ago" }
        if s < 3600 { return "\(s / 60)m\(s % 60 == 0 ? "" : "\(s % 60)s") ago" }
        if s < 86400 { return "\(s / 3600)h\((s % 3600) / 60)m ago" }
        return "\(s / 86400)d\((s % 86400) / 3600)h ago"
    }

    static func time(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// Left-aligned columns.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
        for row in all {
            line(row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
    }
}
