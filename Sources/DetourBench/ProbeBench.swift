import DetourCore
import DetourProbes
import DetourTransport
import Foundation
import Logging

/// 50 platforms × 4 probes every 10 s against local servers: CPU share of one core and peak RSS.
enum ProbeBench {
    static func run(platforms count: Int, seconds: Int) async throws {
        let server = try StandInProcess(routes: #"{"*": {"status": 200, "body": "<html>welcome</html>"}}"#)
        defer { server.stop() }
        let port = server.port
        var specs: [PlatformSpec] = []
        for i in 0..<count {
            var health = HealthSettings()
            health.interval = .seconds(10)
            health.timeout = .seconds(5)
            var keyword = HTTPCheck(url: "http://127.0.0.1:\(port)/p\(i)/login")
            keyword.mustNotContain = "Sorry, something went wrong"
            specs.append(PlatformSpec(id: PlatformID("p\(i)"), displayName: "P\(i)", probes: [
                ProbeSpec(.dns(host: "localhost")),
                ProbeSpec(.tcp(host: "127.0.0.1", port: port)),
                ProbeSpec(.http(HTTPCheck(url: "http://127.0.0.1:\(port)/p\(i)/"))),
                ProbeSpec(.http(keyword)),
            ], health: health, builtIn: false))
        }
        let controls = [ProbeSpec(.http(HTTPCheck(url: "http://127.0.0.1:\(port)/control")))]
        let client = CurlHTTPClient(logger: Logger(label: "bench"))
        defer { client.shutdown() }
        let scheduler = ProbeScheduler<ContinuousClock>(platforms: specs, controls: controls, controlTimeout: .seconds(5),
                                                        fetcher: CurlProbeFetcher(client: client), clock: ContinuousClock(),
                                                        logger: Logger(label: "bench"))
        let counter = Counter()
        let trackerBox = TrackerBox(HealthTracker(platforms: specs, start: Date()))
        FileHandle.standardError.write(Data("probing \(count) platforms × 4 probes every 10s for \(seconds)s against 127.0.0.1:\(port)…\n".utf8))
        let before = Usage.now()
        let start = ContinuousClock.now
        let task = Task {
            await scheduler.run { round in
                counter.add(round.results.count, failing: round.results.filter { $0.verdict != .ok }.count)
                trackerBox.observe(round)
            }
        }
        try await Task.sleep(for: .seconds(seconds))
        task.cancel()
        await task.value
        let wall = ContinuousClock.now - start
        let after = Usage.now()
        let cpu = after.cpuSeconds - before.cpuSeconds
        let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        printTable([
            ["benchmark", "platforms", "probes run", "not ok", "wall", "cpu", "cpu share of one core", "peak RSS"],
            ["probe-rounds", "\(count)", "\(counter.total)", "\(counter.failing)", String(format: "%.1f s", wallSeconds),
             String(format: "%.2f s", cpu), String(format: "%.2f %%", cpu / wallSeconds * 100),
             String(format: "%.1f MB", Double(after.maxRSSKiB) / 1024)],
        ])
        print("targets: under 2% of a core and under 40 MB")
    }
}

/// CPU time and peak RSS of this process.
struct Usage {
    var cpuSeconds: Double
    var maxRSSKiB: Int
    static func now() -> Usage {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        let cpu = Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        return Usage(cpuSeconds: cpu, maxRSSKiB: u.ru_maxrss)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var total = 0
    private(set) var failing = 0
    func add(_ n: Int, failing f: Int) { lock.lock(); total += n; failing += f; lock.unlock() }
}

final class TrackerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var tracker: HealthTracker
    init(_ t: HealthTracker) { tracker = t }
    func observe(_ round: ProbeRound) {
        lock.lock(); defer { lock.unlock() }
        _ = tracker.observe(RoundObservation(platform: round.platform, results: round.results, at: round.at), controls: round.controls)
    }
}

/// The repository's scriptable HTTP stand-in (`Tests/Servers/http_server.py`) as a child process.
final class StandInProcess {
    let process = Process()
    let port: Int
    let dir: URL

    init(routes: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("detour-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let routesFile = dir.appendingPathComponent("routes.json")
        try Data(routes.utf8).write(to: routesFile)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/Servers/http_server.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script, routesFile.path, "--no-log"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while true {
            let c = out.fileHandleForReading.readData(ofLength: 1)
            if c.isEmpty || c == Data([0x0a]) { break }
            line.append(c)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("READY "), let p = Int(text.dropFirst(6)) else {
            throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "stand-in did not start: \(text)"])
        }
        port = p
    }

    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: dir)
    }
}
