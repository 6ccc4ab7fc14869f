import struct Foundation.Date

extension FailoverEngine {
    /// For `status`: why each business is (not) failing over right now, e.g.
    /// "instagram down for 1m20s; failover in 1m40s (grace 3m)". Holds and manual failovers are
    /// those of the last `evaluate`.
    public func explain(_ business: BusinessID, statuses: [PlatformID: PlatformStatus], now: Date) -> String {
        explain(business, statuses: statuses, overrides: overridesInForce, now: now)
    }

    /// The same, with the overrides given.
    public func explain(_ business: BusinessID, statuses: [PlatformID: PlatformStatus], overrides: EngineOverrides,
                        now: Date) -> String {
        let (found, judgedBy) = state(of: business)
        let memory = found ?? Memory()
        guard let condition = judgedBy else {
            if let incident = memory.latest, incident.isOpen {
                return "not in the policies directory; incident #\(incident.id) is being resolved"
            }
            return "not in the policies directory"
        }
        let verdict = condition.verdict(statuses)
        let shown = EngineText.list(condition.statuses(in: statuses, now: now), now: now)
        let byHand = overrides.manualFailover.contains(business)

        if let incident = memory.latest, incident.isOpen {
            let manual = byHand || incident.origin == .manual
            let head = "failed over\(manual ? " by hand" : "") for \(EngineText.span(from: incident.openedAt, to: now))"
                + " (incident #\(incident.id)): \(shown)"
            if manual { return head + "; only `detour failover stop` ends it" }
            if case .resolve = memory.pending { return head + "; the all-clear is on its way" }
            switch verdict {
            case .failing:
                return head + "; all-clear once clear for \(condition.recoveryGrace) (recovery grace)"
            case .cannotTell:
                return head + "; no all-clear while a platform is unknown"
            case .clear:
                let since = memory.clearSince ?? now
                let due = since.addingTimeInterval(condition.recoveryGrace.seconds)
                return head + "; all-clear in \(EngineText.spanUp(from: now, to: due)) (recovery grace \(condition.recoveryGrace))"
            }
        }
        if byHand { return "failed over by hand: \(shown)" }

        switch verdict {
        case .clear:
            return "no failover: \(shown) (fails over \(EngineText.when(condition)) for \(condition.grace))"
        case .cannotTell:
            return "cannot tell: \(shown); no failover while a platform is unknown"
        case .failing(let since):
            var blockers: [String] = []
            if memory.suppressed { blockers.append(EngineText.suppressed) }
            if let hold = overrides.hold(on: business, at: now) { blockers.append(EngineText.hold(hold, now: now) + ": no failover") }
            var notes: [String] = []
            if let resumed = Self.resumable(memory.latest, cooldown: condition.cooldown, now: now),
               let resolvedAt = resumed.resolvedAt {
                notes.append(EngineText.wouldContinue(resumed, resolvedAt: resolvedAt, cooldown: condition.cooldown, now: now))
            }
            let down = EngineText.list(condition.down(in: statuses), now: now)
            let due = since.addingTimeInterval(condition.grace.seconds)
            let next: String
            if now < due {
                next = "failover in \(EngineText.spanUp(from: now, to: due)) (grace \(condition.grace))"
            } else if memory.pending != nil {
                next = "failing over now (grace \(condition.grace))"
            } else if blockers.isEmpty {
                next = "failover at the next tick (grace \(condition.grace))"
            } else {
                next = "past the grace (\(condition.grace))"
            }
            return ([down, next] + blockers + notes).joined(separator: "; ")
        }
    }
}
