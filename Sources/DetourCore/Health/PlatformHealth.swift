import struct Foundation.Date

/// The health of one platform across rounds: streaks, hysteresis and flap damping.
///
/// `judged` is the state rounds that could tell have led to. A round that cannot tell (our network
/// is down, or no probe could tell) shows `unknown` but leaves `judged` and every streak alone, so
/// the next round that can tell continues from where the platform was.
struct PlatformHealth: Sendable {
    var spec: PlatformSpec
    private(set) var status: PlatformStatus
    /// The last state judged from a round that could tell; nil before the first one. Never `.unknown`.
    private(set) var judged: PlatformState?
    private(set) var failingStreak = 0
    private(set) var healthyStreak = 0
    /// When the current failing streak began.
    private var firstFailingAt: Date?
    /// The last failing round, for flap damping.
    private var lastFailingAt: Date?
    /// Times the platform went down or came back, pruned to the flap window.
    private var changes: [Date] = []
    private(set) var heldForFlapping = false

    private var settings: HealthSettings { spec.health }
    private var failureThreshold: Int { max(1, settings.failureThreshold) }
    private var successThreshold: Int { max(1, settings.successThreshold) }

    init(spec: PlatformSpec, since: Date) {
        self.spec = spec
        status = PlatformStatus(platform: spec.id, state: .unknown, reason: HealthReason.noRoundYet, since: since)
    }

    /// Takes one round's results and returns the transition it caused, if any.
    mutating func observe(_ results: [ProbeResult], controls: ControlAssessment, at: Date) -> StatusTransition? {
        let round = RoundAssessment(results: results, quorum: settings.quorum)
        if round.kind != .healthy && controls.networkDown {
            return show(.unknown, HealthReason.networkDown(controls), at: at)
        }
        if round.kind == .unknown {
            return show(.unknown, HealthReason.nothingCouldTell(round), at: at)
        }

        if round.kind == .failing {
            failingStreak += 1
            healthyStreak = 0
            if firstFailingAt == nil { firstFailingAt = at }
            lastFailingAt = at
        } else {
            healthyStreak += 1
            failingStreak = 0
            firstFailingAt = nil
        }
        let (state, reason) = judge(round, at: at)
        judged = state
        return show(state, reason, at: at)
    }

    private mutating func judge(_ round: RoundAssessment, at: Date) -> (PlatformState, String) {
        let summary = HealthReason.round(round, failingFor: firstFailingAt.map { HealthReason.span(from: $0, to: at) })
        let upState: PlatformState = round.kind == .healthy ? .operational : .degraded

        guard judged == .down else {
            if failingStreak >= failureThreshold {
                recordChange(at: at)
                if changes.count > settings.flap.maxTransitions {
                    heldForFlapping = true
                    return (.down, HealthReason.heldForFlapping(summary, flap: settings.flap))
                }
                return (.down, summary)
            }
            if round.kind == .failing {
                return (.degraded, HealthReason.pendingDown(summary, streak: failingStreak, threshold: failureThreshold))
            }
            return (upState, summary)
        }

        if heldForFlapping {
            guard isStable(at: at), healthyStreak >= successThreshold else {
                return (.down, HealthReason.heldForFlapping(summary, flap: settings.flap))
            }
            heldForFlapping = false
            changes = []
            recordChange(at: at)
            return (upState, summary)
        }
        if round.kind == .failing { return (.down, summary) }
        guard healthyStreak >= successThreshold else {
            return (.down, HealthReason.recovering(summary, streak: healthyStreak, threshold: successThreshold))
        }
        pruneChanges(at: at)
        if changes.count + 1 > settings.flap.maxTransitions {
            heldForFlapping = true
            return (.down, HealthReason.heldForFlapping(summary, flap: settings.flap))
        }
        recordChange(at: at)
        return (upState, summary)
    }

    /// No failing round for the flap damping's `stableFor`.
    private func isStable(at: Date) -> Bool {
        guard let lastFailingAt else { return true }
        return HealthReason.span(from: lastFailingAt, to: at) >= settings.flap.stableFor
    }

    private mutating func recordChange(at: Date) {
        changes.append(at)
        pruneChanges(at: at)
    }

    private mutating func pruneChanges(at: Date) {
        let window = settings.flap.window
        changes.removeAll { HealthReason.span(from: $0, to: at) >= window }
    }

    /// Shows `state` with `reason`; a transition when the state changed.
    private mutating func show(_ state: PlatformState, _ reason: String, at: Date) -> StatusTransition? {
        guard state != status.state else {
            status.reason = reason
            return nil
        }
        let from = status.state
        status = PlatformStatus(platform: spec.id, state: state, reason: reason, since: at)
        return StatusTransition(platform: spec.id, from: from, to: state, reason: reason, at: at)
    }
}
