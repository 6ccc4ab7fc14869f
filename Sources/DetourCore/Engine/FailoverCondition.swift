import struct Foundation.Date

/// The part of a policy the engine judges by: which platforms, any or all, and the three timers.
///
/// Judging is allocation-free (it runs for every business on every tick); the lists a person
/// reads are built only when a decision or an explanation needs them.
struct FailoverCondition: Sendable {
    /// What the statuses say about the condition right now.
    enum Verdict: Sendable, Hashable {
        /// The condition holds, since `since` (taken from the statuses' `since`): for `any` the
        /// earliest of the down platforms, for `all` the latest.
        case failing(since: Date)
        /// The condition is false and no platform it depends on is unknown.
        case clear
        /// A platform is unknown and the known ones cannot decide: neither open nor resolve.
        case cannotTell
    }

    /// In policy order, each platform once.
    let dependsOn: [PlatformID]
    let failWhen: FailWhen
    let grace: TimeSpan
    let recoveryGrace: TimeSpan
    let cooldown: TimeSpan

    init(_ policy: Policy) {
        var seen = Set<PlatformID>()
        dependsOn = policy.dependsOn.filter { seen.insert($0).inserted }
        failWhen = policy.failWhen
        grace = policy.grace
        recoveryGrace = policy.recoveryGrace
        cooldown = policy.cooldown
    }

    /// True when the same statuses give the same verdict under both (the timers may differ).
    func judgesLike(_ other: FailoverCondition) -> Bool {
        dependsOn == other.dependsOn && failWhen == other.failWhen
    }

    /// `any`: some platform is down (an unknown one cannot trigger, but does not stop a known down one).
    /// `all`: every platform is down, none unknown. A platform missing from `statuses` is unknown;
    /// `degraded` is not down. A policy that depends on nothing never fails over.
    func verdict(_ statuses: [PlatformID: PlatformStatus]) -> Verdict {
        guard !dependsOn.isEmpty else { return .clear }
        var down = 0
        var unknown = 0
        var earliest = Date.distantFuture
        var latest = Date.distantPast
        for platform in dependsOn {
            guard let status = statuses[platform] else { unknown += 1; continue }
            switch status.state {
            case .down:
                down += 1
                if status.since < earliest { earliest = status.since }
                if status.since > latest { latest = status.since }
            case .unknown:
                unknown += 1
            case .operational, .degraded:
                break
            }
        }
        switch failWhen {
        case .any:
            if down > 0 { return .failing(since: earliest) }
            return unknown > 0 ? .cannotTell : .clear
        case .all:
            if unknown > 0 { return .cannotTell }
            return down == dependsOn.count ? .failing(since: latest) : .clear
        }
    }

    /// The statuses of the platforms it depends on, in policy order; a missing one is shown unknown.
    func statuses(in statuses: [PlatformID: PlatformStatus], now: Date) -> [PlatformStatus] {
        dependsOn.map {
            statuses[$0] ?? PlatformStatus(platform: $0, state: .unknown, reason: EngineText.noStatus, since: now)
        }
    }

    /// The down ones among the platforms it depends on, in policy order.
    func down(in statuses: [PlatformID: PlatformStatus]) -> [PlatformStatus] {
        dependsOn.compactMap { statuses[$0].flatMap { $0.state == .down ? $0 : nil } }
    }
}

extension Date {
    /// True when at least `span` has passed from `earlier` to this date.
    func isAtLeast(_ span: TimeSpan, after earlier: Date) -> Bool {
        timeIntervalSince(earlier) >= span.seconds
    }
}
