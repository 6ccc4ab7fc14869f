import Foundation
import Testing
import DetourCore

/// A fixed start time; every test date is an offset from it.
let start = Date(timeIntervalSince1970: 1_750_000_000)

func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }

enum Probe {
    static let dns = "dns www.instagram.com"
    static let https = "https://www.instagram.com/"
    static let tcp = "tcp www.instagram.com:443"
    static let feed = "status feed https://metastatus.com/data/orgs.json (Instagram)"
    static let controlDNS = "dns www.wikipedia.org"
    static let controlGoogle = "https://www.google.com/generate_204"
    static let controlCloudflare = "https://one.one.one.one/"
}

func ok(_ probe: String, feed: Bool = false) -> ProbeResult {
    ProbeResult(probe: probe, verdict: .ok, detail: "", corroborating: feed, observedAt: start)
}

func failing(_ probe: String, _ detail: String = "timed out after 10s", feed: Bool = false) -> ProbeResult {
    ProbeResult(probe: probe, verdict: .failing, detail: detail, corroborating: feed, observedAt: start)
}

func slow(_ probe: String, _ detail: String = "took 6.2s", feed: Bool = false) -> ProbeResult {
    ProbeResult(probe: probe, verdict: .slow, detail: detail, corroborating: feed, observedAt: start)
}

func cannotTell(_ probe: String, _ detail: String = "feed unparsable", feed: Bool = false) -> ProbeResult {
    ProbeResult(probe: probe, verdict: .unknown, detail: detail, corroborating: feed, observedAt: start)
}

/// Instagram's three own probes, each ok unless named in `failing`.
func ownProbes(failing names: Set<String> = []) -> [ProbeResult] {
    [Probe.dns, Probe.https, Probe.tcp].map { names.contains($0) ? failing($0) : ok($0) }
}

let allOk = ownProbes()
let allFailing = ownProbes(failing: [Probe.dns, Probe.https, Probe.tcp])
let controlsOk = [ok(Probe.controlDNS), ok(Probe.controlGoogle), ok(Probe.controlCloudflare)]
let controlsDown = [failing(Probe.controlDNS, "SERVFAIL"), failing(Probe.controlGoogle), ok(Probe.controlCloudflare)]

func platform(_ id: PlatformID = .instagram, _ configure: (inout HealthSettings) -> Void = { _ in }) -> PlatformSpec {
    var health = HealthSettings()
    configure(&health)
    return PlatformSpec(id: id, displayName: id.rawValue, probes: [], health: health, builtIn: false)
}

/// A tracker watching one or more platforms, fed rounds by offset in seconds.
struct Rounds {
    var tracker: HealthTracker
    let id: PlatformID

    init(_ specs: PlatformSpec...) {
        tracker = HealthTracker(platforms: specs, start: start)
        id = specs.first?.id ?? .instagram
    }

    init(_ configure: (inout HealthSettings) -> Void = { _ in }) {
        self.init(platform(.instagram, configure))
    }

    @discardableResult
    mutating func round(_ seconds: Double, _ results: [ProbeResult], controls: [ProbeResult] = controlsOk,
                        platform: PlatformID? = nil) -> StatusTransition? {
        tracker.observe(RoundObservation(platform: platform ?? id, results: results, at: at(seconds)), controls: controls)
    }

    /// Feeds the same results at each offset and returns the state after each round.
    mutating func states(_ offsets: [Double], _ results: [ProbeResult], controls: [ProbeResult] = controlsOk) -> [PlatformState?] {
        offsets.map { round($0, results, controls: controls); return state }
    }

    var status: PlatformStatus? { tracker.status(of: id) }
    var state: PlatformState? { status?.state }
    var reason: String? { status?.reason }
}
