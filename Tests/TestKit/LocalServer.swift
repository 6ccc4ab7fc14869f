import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the repository is, found from this file's path, so tests can reach `Tests/Servers` and `examples`.
public enum Repo {
    public static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The Python the test servers run under: `$DETOUR_TEST_PYTHON`, else the repo's `.venv`, else `python3`.
    public static var python: String {
        if let p = ProcessInfo.processInfo.environment["DETOUR_TEST_PYTHON"], !p.isEmpty { return p }
        let venv = path(".venv/bin/python")
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return "/usr/bin/env"
    }
}

public struct LocalServerError: Error, CustomStringConvertible {
    public let description: String
}

/// A real server process on 127.0.0.1 started for one test: a script from `Tests/Servers` that prints
/// `READY <port>` when listening. It is killed when this object goes away (or by `stop()`).
public final class LocalServer: @unchecked Sendable {
    public let port: Int
    public let process: Process
    private let stderrPipe: Pipe

    /// Starts `Tests/Servers/<script>` with `arguments` and waits (at most `timeout` seconds) for it to listen.
    public init(script: String, arguments: [String] = [], environment: [String: String] = [:], timeout: Double = 20) throws {
        let process = Process()
        let python = Repo.python
        process.executableURL = URL(fileURLWithPath: python)
        let scriptPath = Repo.path("Tests/Servers/\(script)")
        process.arguments = (python == "/usr/bin/env" ? ["python3"] : []) + ["-u", scriptPath] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.stderrPipe = err

        // Read the first line on a background thread so a silent server cannot hang the test.
        let box = LineBox()
        let reader = Thread {
            var line = Data()
            while true {
                let chunk = out.fileHandleForReading.readData(ofLength: 1)
                if chunk.isEmpty || chunk == Data([0x0a]) { break }
                line.append(chunk)
            }
            box.set(String(decoding: line, as: UTF8.self))
        }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while box.get() == nil, Date() < deadline, process.isRunning { usleep(10_000) }
        guard let line = box.get() ?? (process.isRunning ? nil : ""), line.hasPrefix("READY "), let port = Int(line.dropFirst(6)) else {
            process.terminate()
            let errText = String(decoding: err.fileHandleForReading.availableDataNonBlocking(), as: UTF8.self)
            throw LocalServerError(description: "\(script) did not start: \(errText.prefix(2000))")
        }
        self.port = port
    }

    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

private final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return value }
}

extension FileHandle {
    /// Whatever is buffered now, without blocking on a process that is still running.
    func availableDataNonBlocking() -> Data {
        let fd = fileDescriptor
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var data = Data()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n <= 0 { break }
            data.append(contentsOf: buf[0..<n])
        }
        return data
    }
}

/// A scriptable HTTP server (`Tests/Servers/http_server.py`): set routes, read the requests it received.
public final class HTTPStandIn: @unchecked Sendable {
    public let server: LocalServer
    public let routesFile: URL
    public var port: Int { server.port }
    public var baseURL: String { "http://127.0.0.1:\(server.port)" }

    public init(routes: [String: Any], in dir: TempDir) throws {
        routesFile = dir.url.appendingPathComponent("routes-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: routes).write(to: routesFile)
        server = try LocalServer(script: "http_server.py", arguments: [routesFile.path])
    }

    /// Replaces the routes; the server reads them on every request.
    public func setRoutes(_ routes: [String: Any]) throws {
        let tmp = routesFile.appendingPathExtension("tmp")
        try JSONSerialization.data(withJSONObject: routes).write(to: tmp)
        guard rename(tmp.path, routesFile.path) == 0 else {
            throw LocalServerError(description: "cannot replace \(routesFile.path): errno \(errno)")
        }
    }

    /// Every request received so far, oldest first, as decoded JSON objects.
    public func requests() -> [[String: Any]] {
        guard let text = try? String(contentsOf: routesFile.appendingPathExtension("log"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }
}
