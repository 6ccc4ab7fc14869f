import ArgumentParser
import DetourConfig
import DetourCore
import DetourProbes
import DetourTransport
import Foundation
import Logging

/// `detour probe`: one probe round now, with each result and each platform's verdict.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Run one round of probes now: is it down, or is it us?",
        discussion: """
        Runs every probe of the configured platforms (or only --platform ones)
        once, together with the control probes, and prints each result with its
        timings and each platform's verdict for this round. The daemon needs
        several failing rounds (failure_threshold) before it calls a platform
        down; this command judges a single round, so it answers "what does it
        look like right now?".

        When most control probes fail too, the verdict is "unknown: our own
        network is down".

        Examples:
          detour probe --config /etc/detour/detour.yaml
          detour probe --platform instagram --platform whatsapp
          detour probe --json | jq '.platforms[] | {platform, state}'
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("Only this platform (repeatable).", valueName: "name"))
    var platform: [String] = []

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let (loaded, diagnostics) = ConfigLoader().load(configPath: options.path, policyFiles: [])
        guard let daemon = loaded?.daemon else {
            DiagnosticPrinter.print(diagnostics)
            print("failed: the daemon file has errors; run `detour policy check` and fix them first.")
            throw ExitCode(1)
        }
        for name in platform where daemon.platforms[PlatformID(name)] == nil {
            throw ValidationError("unknown platform '\(name)'. Known: \(daemon.platforms.keys.sorted().map(\.rawValue).joined(separator: ", "))")
        }
        let selected = platform.isEmpty ? Set(daemon.platforms.keys) : Set(platform.map { PlatformID($0) })
        let specs = daemon.platforms.values.filter { selected.contains($0.id) }.sorted { $0.id < $1.id }

        let client = CurlHTTPClient(logger: Logger(label: "detour.probe"))
        defer { client.shutdown() }
        let scheduler = ProbeScheduler<ContinuousClock>(platforms: specs, controls: daemon.controls, controlTimeout: daemon.health.timeout,
                                       fetcher: CurlProbeFetcher(client: client), clock: ContinuousClock(),
                                       logger: Logger(label: "detour.probe"))
        if !json { FileHandle.standardError.write(Data("probing \(specs.count) platform\(specs.count == 1 ? "" : "s") and \(daemon.controls.count) control targets…\n".utf8)) }
        let rounds = await scheduler.runOnce(platforms: selected)

        // Judge this one round: a threshold of one round, so the verdict is "what it looks like now".
        let oneRound = specs.map { spec -> PlatformSpec in
            var s = spec
            s.health.failureThreshold = 1
            s.health.successThreshold = 1
            return s
        }
        var tracker = HealthTracker(platforms: oneRound, start: Date())
        for round in rounds {
            _ = tracker.observe(RoundObservation(platform: round.platform, results: round.results, at: round.at), controls: round.controls)
        }
        let report = ProbeReport(rounds: rounds, statuses: tracker.statuses)
        if json { print(try report.json()) } else { print(report.text(), terminator: "") }
    }
}

/// What `detour probe` prints.
struct ProbeReport: Encodable {
    struct PlatformReport: Encodable {
        var platform: String
        var state: PlatformState
        var reason: String
        var probes: [ProbeResult]
    }
    var platforms: [PlatformReport]
    var controls: [ProbeResult]

    init(rounds: [ProbeRound], statuses: [PlatformStatus]) {
        platforms = rounds.map { round in
            let status = statuses.first { $0.platform == round.platform }
            return PlatformReport(platform: round.platform.rawValue, state: status?.state ?? .unknown,
                                  reason: status?.reason ?? "", probes: round.results)
        }
        controls = rounds.first?.controls ?? []
    }

    func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    func text() -> String {
        var out = ""
        for p in platforms {
            out += "\(p.platform.padding(toLength: 12, withPad: " ", startingAt: 0)) \(p.state.rawValue.uppercased())  \(p.reason)\n"
            out += lines(p.probes)
        }
        let failing = controls.filter { $0.verdict == .failing }.count
        out += "controls     \(failing) of \(controls.count) failing\(failing * 2 > controls.count ? ": our own network looks down" : "")\n"
        out += lines(controls)
        return out
    }

    private func lines(_ results: [ProbeResult]) -> String {
        results.map { r in
            let mark = ["ok": "✓", "slow": "~", "failing": "✗", "unknown": "?"][r.verdict.rawValue] ?? " "
            var line = "  \(mark) \(r.probe.padding(toLength: 46, withPad: " ", startingAt: 0)) \(r.detail)"
            if let t = r.timings, t.total > 0 {
                line += String(format: "  [dns %.0f, connect %.0f, tls %.0f, first byte %.0f, total %.0f ms]",
                               t.dns * 1000, t.connect * 1000, t.tls * 1000, t.firstByte * 1000, t.total * 1000)
            }
            return line + "\n"
        }.joined()
    }
}
