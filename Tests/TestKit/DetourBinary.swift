import Foundation

/// Runs the built `detour` binary as a subprocess, as an operator would.
public enum DetourBinary {
    /// The debug binary `swift build` produced (`$DETOUR_BIN` overrides).
    public static var path: String {
        if let p = ProcessInfo.processInfo.environment["DETOUR_BIN"], !p.isEmpty { return p }
        return Repo.path(".build/debug/detour")
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `detour args…` and waits at most `timeout` seconds (then kills it and reports status -9).
    public static func run(_ args: [String], environment: [String: String] = [:], timeout: Double = 60) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DETOUR_CONFIG")
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let outBox = DataBox(), errBox = DataBox()
        let readers = [Thread { outBox.set(out.fileHandleForReading.readDataToEndOfFile()) },
                       Thread { errBox.set(err.fileHandleForReading.readDataToEndOfFile()) }]
        readers.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        while !(outBox.done && errBox.done) { usleep(5_000) }
        return Result(status: p.terminationReason == .uncaughtSignal ? -p.terminationStatus : p.terminationStatus,
                      stdout: String(decoding: outBox.data, as: UTF8.self), stderr: String(decoding: errBox.data, as: UTF8.self))
    }
}

private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Data()
    private var finished = false
    func set(_ d: Data) { lock.lock(); value = d; finished = true; lock.unlock() }
    var data: Data { lock.lock(); defer { lock.unlock() }; return value }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
}
