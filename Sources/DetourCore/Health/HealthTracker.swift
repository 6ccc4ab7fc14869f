import struct Foundation.Date

/// Turns probe rounds into platform statuses: quorum across a platform's probes, status feeds as
/// corroboration, control probes that tell our own outage from the platform's, failure and success
/// thresholds, and flap damping.
///
/// A value type with no clock: every time it knows comes from the rounds it is given, so the same
/// rounds always give the same statuses. The daemon keeps one inside whatever isolates it.
public struct HealthTracker: Sendable {
    private var platforms: [PlatformID: PlatformHealth] = [:]
    /// Platform ids in the order they were configured.
    private var order: [PlatformID] = []

    /// Starts every platform `unknown` ("no probe round yet") since `start`.
    /// When two specs share an id, the last one wins.
    public init(platforms specs: [PlatformSpec], start: Date) {
        update(platforms: specs, at: start)
    }

    /// Takes one round of one platform, with the control probe results of the same round, and
    /// returns the change of status it caused. Rounds of platforms the tracker does not watch are ignored.
    public mutating func observe(_ round: RoundObservation, controls: [ProbeResult]) -> StatusTransition? {
        platforms[round.platform]?.observe(round.results, controls: ControlAssessment(results: controls), at: round.at)
    }

    /// The current status of a platform, nil when it is not watched.
    public func status(of platform: PlatformID) -> PlatformStatus? {
        platforms[platform]?.status
    }

    /// The current status of every watched platform, in configured order.
    public var statuses: [PlatformStatus] {
        order.compactMap { platforms[$0]?.status }
    }

    /// Applies a reloaded configuration. A platform that is still watched keeps its state, streaks
    /// and flap history, and is judged by its new settings from the next round on; a new platform
    /// starts `unknown` since `at`; a platform no longer configured is forgotten.
    public mutating func update(platforms specs: [PlatformSpec], at: Date) {
        var next: [PlatformID: PlatformHealth] = [:]
        var nextOrder: [PlatformID] = []
        for spec in specs {
            if next[spec.id] == nil { nextOrder.append(spec.id) }
            var health = platforms[spec.id] ?? PlatformHealth(spec: spec, since: at)
            health.spec = spec
            next[spec.id] = health
        }
        platforms = next
        order = nextOrder
    }
}
