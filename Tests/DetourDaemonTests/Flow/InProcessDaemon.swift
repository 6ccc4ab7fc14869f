import DetourConfig
import DetourCore
@testable import DetourDaemon
import DetourStore
import DetourTransport
import Foundation
import Logging
import TestKit

/// The deciding and delivering parts of the daemon assembled in this process, as `detour run` does,
/// on a `ManualClock`, with a real SQLite file, a real SMTP stand-in and a real webhook receiver.
final class InProcessDaemon: @unchecked Sendable {
    let dir: TempDir
    let smtp: LocalServer
    let smtpDir: String
    let receiver: HTTPStandIn
    let clock = ManualClock()
    let store: SQLiteStore
    let http: CurlHTTPClient
    let core: DaemonCore
    let config: LoadedConfiguration

    struct Settings {
        var recipients = 3
        var lease = "30s"
        var smtpTimeout = "10s"
        var smtpArguments: [String] = []
        var webhookRoutes: [String: Any] = ["/hook": ["status": 204]]
        var initialBackoff = "10s"
        var owner = "test/1"
        var cooldown = "10m"
        /// Lines added at the top of the policy (`time_zone: UTC`).
        var policyExtra = ""
        /// Lines added under its `channels:`, indented two spaces.
        var channelsExtra = ""
    }

    init(_ s: Settings = Settings(), sharing other: InProcessDaemon? = nil, phones: String? = nil) async throws {
        if let other { dir = other.dir } else { dir = try TempDir("detour-flow") }
        smtpDir = dir.file("smtp")
        if let other {
            smtp = other.smtp; receiver = other.receiver
        } else {
            smtp = try LocalServer(script: "smtp_server.py", arguments: ["--dir", smtpDir] + s.smtpArguments)
            receiver = try HTTPStandIn(routes: s.webhookRoutes, in: dir)
        }
        if other == nil {
            try dir.write("detour.yaml", """
            state: state/detour.sqlite
            policies: policies
            smtp:
              local:
                url: smtp://127.0.0.1:\(smtp.port)
                starttls: off
                max_connections: 4
                timeout: \(s.smtpTimeout)
            webhooks:
              allow_private_targets: true
              timeout: 2s
            delivery:
              initial_backoff: \(s.initialBackoff)
              max_backoff: 1m
              max_attempts: 5
              lease: \(s.lease)
            platforms:
              facebook: {watch: false}
              instagram: {watch: false}
              threads: {watch: false}
              messenger: {watch: false}
              whatsapp: {watch: false}
              acme:
                name: Acme Social
                probes:
                  - http: http://127.0.0.1:9/health
            """)
            try dir.write("policies/shop.yaml", """
            business: shop
            name: Corner Shop
            depends_on: [acme]
            cooldown: \(s.cooldown)
            \(s.policyExtra)
            message:
              outage: Acme is down. Call us.
              recovery: Acme is back.
            channels:
              email:
                smtp: local
                from: Corner Shop <hello@shop.example>
                audience: ../audience.csv
              banner:
                publish_dir: ../site/banner
              webhooks:
                - name: crm
                  format: json
                  url: \(receiver.baseURL)/hook
            \(s.channelsExtra)
            """)
            var csv = "email,name\n"
            for i in 1...s.recipients { csv += "customer\(i)@example.test,Customer \(i)\n" }
            try dir.write("audience.csv", csv)
            if let phones { try dir.write("phones.csv", phones) }
        }
        let (loaded, diagnostics) = ConfigLoader(environment: [:]).load(configPath: dir.file("detour.yaml"))
        guard let loaded else { throw InfraTestError("config: \(diagnostics.errors)") }
        config = loaded
        store = try SQLiteStore(path: loaded.daemon.statePath)
        let logger = Logger(label: "detour.test.flow", factory: { _ in SwiftLogNoOpLogHandler() })
        http = CurlHTTPClient(logger: logger)
        var options = DaemonCore.Options(owner: s.owner)
        options.idlePoll = .milliseconds(200)
        let clock = self.clock
        core = try await DaemonCore.assemble(
            config: loaded, store: store, links: UnsubscribeLinks(publicURL: "http://127.0.0.1:1", key: Array(repeating: 7, count: 32)),
            http: http, options: options, clock: clock, now: { clock.date }, logger: logger)
    }

    /// Every email the SMTP stand-in accepted.
    func emails() -> [(raw: String, to: [String])] { DaemonHarness.emails(in: smtpDir) }

    /// The deliveries in `state`.
    func count(_ state: DeliveryState) async throws -> Int {
        try await store.deliveries(DeliveryFilter(state: state, limit: 100_000)).count
    }

    /// Polls `condition` every 20 ms of real time for at most `seconds`.
    func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    deinit { http.shutdown() }
}
