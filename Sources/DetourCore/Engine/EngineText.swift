import struct Foundation.Date

/// The sentences that explain the engine's decisions to a person. Every reason the engine gives is built here.
enum EngineText {
    static let removed = "business removed from the policies directory"
    /// The reason shown for a platform missing from the statuses.
    static let noStatus = "no status reported"

    /// Why an incident opens: `instagram down for 3m12s: 3 of 3 probes failing: https://… HTTP 503`,
    /// one such part per down platform, separated by ` | `.
    static func opened(_ down: [PlatformStatus], now: Date) -> String {
        down.map { status in
            "\(status.platform) down for \(span(from: status.since, to: now))"
                + (status.reason.isEmpty ? "" : ": \(status.reason)")
        }.joined(separator: " | ")
    }

    /// Why a resolved incident goes on: `down again 4m after the all-clear (cooldown 10m): instagram down for 3m: …`
    static func reopened(_ down: [PlatformStatus], resolvedAt: Date, cooldown: TimeSpan, now: Date) -> String {
        "down again \(span(from: resolvedAt, to: now)) after the all-clear (cooldown \(cooldown)): " + opened(down, now: now)
    }

    /// Why the all-clear goes out: `instagram operational for 5m12s, facebook degraded for 5m; clear for 5m (recovery grace 5m)`
    static func recovered(_ statuses: [PlatformStatus], clearFor since: Date, recoveryGrace: TimeSpan, now: Date) -> String {
        list(statuses, now: now) + "; clear for \(span(from: since, to: now)) (recovery grace \(recoveryGrace))"
    }

    /// `instagram operational for 2h, whatsapp unknown (our own network is down: …)`
    static func list(_ statuses: [PlatformStatus], now: Date) -> String {
        statuses.map { state($0, now: now) }.joined(separator: ", ")
    }

    /// `instagram down for 1m20s`, `whatsapp unknown (no status reported)`
    static func state(_ status: PlatformStatus, now: Date) -> String {
        switch status.state {
        case .unknown: "\(status.platform) unknown (\(status.reason))"
        case .operational, .degraded, .down: "\(status.platform) \(status.state.rawValue) for \(span(from: status.since, to: now))"
        }
    }

    /// `when it is down`, `when any is down`, `when all are down`
    static func when(_ condition: FailoverCondition) -> String {
        if condition.dependsOn.count == 1 { return "when it is down" }
        return condition.failWhen == .any ? "when any is down" : "when all are down"
    }

    /// `on hold until released`, `on hold for another 42m`
    static func hold(_ until: Date?, now: Date) -> String {
        guard let until else { return "on hold until released" }
        return "on hold for another \(spanUp(from: now, to: until))"
    }

    static let suppressed = "no automatic failover until the platforms have been clear once (failover stopped by hand)"

    /// `it would continue incident #12 (all-clear 3m ago, cooldown 10m)`
    static func wouldContinue(_ incident: BusinessIncident, resolvedAt: Date, cooldown: TimeSpan, now: Date) -> String {
        "it would continue incident #\(incident.id) (all-clear \(span(from: resolvedAt, to: now)) ago, cooldown \(cooldown))"
    }

    /// Whole seconds from `start` to `end`, rounded down, never negative.
    static func span(from start: Date, to end: Date) -> TimeSpan {
        HealthReason.span(from: start, to: end)
    }

    /// Whole seconds from `start` to `end`, rounded up, never negative: for time still to wait.
    static func spanUp(from start: Date, to end: Date) -> TimeSpan {
        .seconds(Int64(max(0, end.timeIntervalSince(start)).rounded(.up)))
    }
}
