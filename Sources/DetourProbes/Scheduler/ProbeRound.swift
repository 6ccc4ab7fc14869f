import DetourCore
import struct Foundation.Date

/// Everything one round of one platform observed: its own probes' results and the control probes'
/// results taken alongside, so the health tracker can tell a platform outage from our own network's.
public struct ProbeRound: Sendable, Hashable {
    public var platform: PlatformID
    /// The platform's probes, in configured order.
    public var results: [ProbeResult]
    /// The control probes, in configured order, run in the same round.
    public var controls: [ProbeResult]
    /// When the round started.
    public var at: Date

    public init(platform: PlatformID, results: [ProbeResult], controls: [ProbeResult], at: Date) {
        self.platform = platform; self.results = results; self.controls = controls; self.at = at
    }
}

/// A probe as the scheduler holds it: the probe, and what the scheduler needs to report an overrun for it.
public struct ScheduledProbe: Sendable {
    public var label: String
    /// The probe's hard timeout; the scheduler stops waiting shortly after it.
    public var timeout: TimeSpan
    /// Status feeds: an overrun is `.unknown`, not `.failing`.
    public var corroborating: Bool
    public var probe: any Probe

    public init(label: String, timeout: TimeSpan, corroborating: Bool = false, probe: any Probe) {
        self.label = label; self.timeout = timeout; self.corroborating = corroborating; self.probe = probe
    }

    /// The probe for a configured spec, built by `ProbeFactory`.
    public init(spec: ProbeSpec, defaultTimeout: TimeSpan, fetcher: any ProbeHTTPFetcher) {
        self.init(label: spec.label, timeout: spec.timeout ?? defaultTimeout, corroborating: spec.isCorroborating,
                  probe: ProbeFactory.makeProbe(spec: spec, defaultTimeout: defaultTimeout, fetcher: fetcher))
    }
}

/// One platform as the scheduler runs it: its probes and its cadence.
public struct ScheduledPlatform: Sendable {
    public var id: PlatformID
    /// Time between round starts.
    public var interval: TimeSpan
    /// Random delay added to each round's start, as a share of `interval` (clamped to 0...0.5).
    public var jitter: Double
    public var probes: [ScheduledProbe]

    public init(id: PlatformID, interval: TimeSpan, jitter: Double, probes: [ScheduledProbe]) {
        self.id = id; self.interval = interval; self.jitter = jitter; self.probes = probes
    }

    /// A configured platform, its probes built by `ProbeFactory` with the platform's timeout as default.
    public init(spec: PlatformSpec, fetcher: any ProbeHTTPFetcher) {
        self.init(id: spec.id, interval: spec.health.interval, jitter: spec.health.jitter,
                  probes: spec.probes.map { ScheduledProbe(spec: $0, defaultTimeout: spec.health.timeout, fetcher: fetcher) })
    }
}
