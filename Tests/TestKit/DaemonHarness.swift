import Foundation

/// A free TCP port on 127.0.0.1 (bound, read, closed: good enough for a test that binds it next).
public enum FreePort {
    public static func next() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LocalServerError(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw LocalServerError(description: "bind: errno \(errno)") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// The real `detour run` against real local stand-ins: a platform (`acme`) and a control target
/// served by one HTTP stand-in, a webhook receiver, and an aiosmtpd SMTP server.
///
/// The daemon's configuration is written to a temp dir with fast probes (1 s interval, thresholds
/// of 2) so an outage is seen within seconds. Built-in platforms are not watched: tests talk to
/// 127.0.0.1 only.
public final class DaemonHarness: @unchecked Sendable {
    public struct Options: Sendable {
        public var recipients = 3
        public var grace = "1s"
        public var recoveryGrace = "2s"
        public var cooldown = "1h"
        public var emailConcurrency = 4
        public var smtpConnections = 4
        public var smtpArguments: [String] = []
        public var webhookFormat = "standard"
        public var initialBackoff = "200ms"
        public var maxAttempts = 10
        /// What `state:` says: the SQLite file by default, or a `postgres://` URL.
        public var state = "state/detour.sqlite"
        /// More top-level keys for `detour.yaml` (YAML lines, e.g. a `node:` section).
        public var extraConfig = ""
        /// More channels, under `channels:` of the policy (indented as its keys).
        public var extraChannels = ""
        /// More probes of the `acme` platform (YAML list items, indented as its probes).
        public var extraProbes = ""
        public init() {}
    }

    public let dir: TempDir
    public let options: Options
    public let platform: HTTPStandIn
    public let receiver: HTTPStandIn
    public let smtp: LocalServer
    public let smtpDir: String
    public let httpPort: Int
    public let configPath: String
    public let socketPath: String
    public let publishDir: String
    public let logPath: String
    public private(set) var process: Process?
    public static let webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    public init(_ options: Options = Options()) throws {
        self.options = options
        dir = try TempDir("detour-e2e")
        platform = try HTTPStandIn(routes: Self.healthyRoutes, in: dir)
        receiver = try HTTPStandIn(routes: ["/hook": ["status": 204], "/slack": ["status": 200, "body": "ok"]], in: dir)
        smtpDir = dir.file("smtp")
        smtp = try LocalServer(script: "smtp_server.py", arguments: ["--dir", smtpDir] + options.smtpArguments)
        httpPort = try FreePort.next()
        configPath = dir.file("detour.yaml")
        socketPath = dir.file("state/control.sock")
        publishDir = dir.file("site/banner")
        logPath = dir.file("daemon.log")
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        try writeConfig()
    }

    public static var healthyRoutes: [String: Any] { ["/health": ["status": 200, "body": "ok"], "/control": ["status": 204]] }

    /// The platform answers 503; the control target stays healthy.
    public func platformDown() throws { try platform.setRoutes(["/health": ["status": 503], "/control": ["status": 204]]) }
    public func platformUp() throws { try platform.setRoutes(Self.healthyRoutes) }
    /// Everything fails, controls too: "our own network is down".
    public func networkDown() throws { try platform.setRoutes(["/health": ["status": 503], "/control": ["status": 503]]) }

    public func writeConfig() throws {
        let o = options
        try dir.write("detour.yaml", """
        state: \(o.state)
        policies: policies
        http:
          listen: 127.0.0.1:\(httpPort)
        control:
          socket: state/control.sock
        smtp:
          local:
            url: smtp://127.0.0.1:\(smtp.port)
            starttls: off
            max_connections: \(o.smtpConnections)
            timeout: 10s
        webhooks:
          allow_private_targets: true
          timeout: 5s
        delivery:
          initial_backoff: \(o.initialBackoff)
          max_backoff: 2s
          max_attempts: \(o.maxAttempts)
          lease: 30s
          concurrency:
            email: \(o.emailConcurrency)
            webhook: 4
        probes:
          interval: 1s
          timeout: 1s
          jitter: 0
          failure_threshold: 2
          success_threshold: 2
        controls:
          - http: \(platform.baseURL)/control
            expect_status: [204]
        platforms:
          facebook: {watch: false}
          instagram: {watch: false}
          threads: {watch: false}
          messenger: {watch: false}
          whatsapp: {watch: false}
          acme:
            name: Acme Social
            probes:
              - http: \(platform.baseURL)/health
                expect_status: [200]
        \(o.extraProbes)
        \(o.extraConfig)
        """)
        try writePolicy()
        var csv = "email,name,locale\n"
        for i in 1...max(1, o.recipients) { csv += "customer\(i)@example.test,Customer \(i),en\n" }
        try dir.write("audience.csv", csv)
    }

    public func writePolicy(message: String = "Acme is down. Call us on 0161 496 0000.", extra: String = "") throws {
        let o = options
        try dir.write("policies/shop.yaml", """
        business: shop
        name: Corner Shop
        depends_on: [acme]
        grace: \(o.grace)
        recovery_grace: \(o.recoveryGrace)
        cooldown: \(o.cooldown)
        message:
          outage: \(message)
          recovery: Acme is back.
        contacts:
          - label: Call us
            url: tel:+441614960000
        channels:
          email:
            smtp: local
            from: Corner Shop <hello@shop.example>
            audience: ../audience.csv
          banner:
            publish_dir: ../site/banner
          webhooks:
            - name: crm
              format: \(o.webhookFormat)
              url: \(receiver.baseURL)/hook
              secret: \(Self.webhookSecret)
        \(o.extraChannels)
        \(extra)
        """)
    }

    /// Starts `detour run` and waits until it says it is ready (or fails, with its log).
    public func start(timeout: Double = 30, environment: [String: String] = [:]) throws {
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DetourBinary.path)
        p.arguments = ["run", "--config", configPath, "--log-level", "debug"]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "DETOUR_CONFIG")
        env.merge(environment) { _, new in new }
        p.environment = env
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
        let alreadyReady = readyCount()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if readyCount() > alreadyReady { return }
            if !p.isRunning { break }
            usleep(20_000)
        }
        throw LocalServerError(description: "detour run did not become ready; its log:\n\(self.log().suffix(4000))")
    }

    private func readyCount() -> Int { log().components(separatedBy: "detour is ready").count - 1 }

    /// Sends `signal` and waits (at most `timeout`) for the daemon to exit; returns its exit status (or -signal).
    @discardableResult
    public func stop(_ signal: Int32 = SIGTERM, timeout: Double = 30) -> Int32 {
        guard let p = process else { return 0 }
        if p.isRunning { kill(p.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        process = nil
        return p.terminationReason == .uncaughtSignal ? -p.terminationStatus : p.terminationStatus
    }

    public var isRunning: Bool { process?.isRunning ?? false }
    /// The daemon's process id while it runs (for SIGSTOP and SIGCONT).
    public var pid: Int32? { process.map(\.processIdentifier) }

    /// The daemon's log so far.
    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// `detour ARGS --config …` (the CLI, talking to this daemon).
    public func cli(_ args: [String], timeout: Double = 60) throws -> DetourBinary.Result {
        try DetourBinary.run(args + ["--config", configPath], timeout: timeout)
    }

    /// Every email the SMTP server accepted: raw message text, envelope recipients.
    public func emails() -> [(raw: String, to: [String])] { Self.emails(in: smtpDir) }

    /// Every email the SMTP stand-in (`smtp_server.py --dir DIR`) accepted: raw message text, envelope recipients.
    public static func emails(in smtpDir: String) -> [(raw: String, to: [String])] {
        guard let text = try? String(contentsOfFile: smtpDir + "/messages.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  let b64 = o["data_b64"] as? String, let data = Data(base64Encoded: b64) else { return nil }
            return (String(decoding: data, as: UTF8.self), (o["rcpt_tos"] as? [String]) ?? [])
        }
    }

    /// A header's value in a raw message (first occurrence, unfolded).
    public static func header(_ name: String, in raw: String) -> String? {
        let head = raw.components(separatedBy: "\r\n\r\n").first ?? raw
        var current: String?
        for line in head.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t") { if current != nil { current! += " " + line.trimmingCharacters(in: .whitespaces) }; continue }
            if current != nil { return current }
            if line.lowercased().hasPrefix(name.lowercased() + ":") { current = String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
        }
        return current
    }

    /// Webhook requests the receiver got.
    public func webhooks(path: String = "/hook") -> [[String: Any]] {
        receiver.requests().filter { ($0["path"] as? String) == path }
    }

    /// The banner document the daemon serves at /banner/shop.json, decoded (nil when not served).
    public func servedBanner() -> [String: Any]? {
        guard let r = try? PlainHTTP.get(port: httpPort, path: "/banner/shop.json"), r.status == 200 else { return nil }
        return (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any]
    }

    /// The banner.json the daemon published into the site's directory.
    public func publishedBanner() -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: publishDir + "/banner.json") else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// Polls `condition` every 50 ms for at most `timeout` seconds.
    @discardableResult
    public func wait(_ timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    deinit { stop(SIGKILL, timeout: 5) }
}

/// A minimal HTTP/1.0 client on 127.0.0.1 for tests (no dependency on the code under test).
public enum PlainHTTP {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
    }

    public static func get(port: Int, path: String, method: String = "GET", headers: [String: String] = [:], body: Data = Data(),
                           timeout: Double = 5) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LocalServerError(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { throw LocalServerError(description: "connect to 127.0.0.1:\(port): errno \(errno)") }
        var request = "\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { request += "\(k): \(v)\r\n" }
        if !body.isEmpty { request += "Content-Length: \(body.count)\r\n" }
        request += "\r\n"
        let out = Data(request.utf8) + body
        _ = out.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var data = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buf[0..<n])
        }
        guard let split = data.range(of: Data("\r\n\r\n".utf8)) else { throw LocalServerError(description: "no HTTP response from 127.0.0.1:\(port)\(path)") }
        let head = String(decoding: data[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var hs: [String: String] = [:]
        for line in head.dropFirst() {
            if let c = line.firstIndex(of: ":") { hs[line[..<c].lowercased()] = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces) }
        }
        return Response(status: status, headers: hs, body: Data(data[split.upperBound...]))
    }
}
