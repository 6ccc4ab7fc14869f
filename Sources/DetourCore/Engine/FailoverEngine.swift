import struct Foundation.Date

/// Decides, tick by tick, which businesses fail over and which get the all-clear: each policy's
/// failover condition against the platform statuses, with the grace before customers hear anything,
/// the recovery grace before the all-clear, the cooldown that continues a recent incident, and the
/// operators' overrides.
///
/// A value type with no clock and no I/O: `now` is passed in. Its only memory of its own is, per
/// business, when the condition last became clear (the recovery timer), a decision returned but not
/// yet recorded (so none is returned twice), and whether an operator's stop suppresses a reopen.
/// The daemon applies each decision to the store and tells the engine the outcome with `record`.
public struct FailoverEngine: Sendable {
    /// The policies in force, by business.
    public private(set) var policies: [BusinessID: Policy] = [:]
    /// One per policy, sorted by business id: the order decisions come out in.
    private var entries: [Entry] = []
    /// Where each business is in `entries`.
    private var index: [BusinessID: Int] = [:]
    /// What the engine remembers of businesses that have no policy (removed, or never loaded).
    private var detached: [BusinessID: Memory] = [:]
    /// The overrides of the last tick, for `explain`.
    private var lastOverrides = EngineOverrides()

    /// A business the engine judges.
    struct Entry: Sendable {
        var business: BusinessID
        var condition: FailoverCondition
        var memory: Memory
    }

    /// What the engine remembers about one business between ticks.
    struct Memory: Sendable {
        /// The newest incident as the store holds it.
        var latest: BusinessIncident?
        /// A decision returned and not yet recorded.
        var pending: Pending?
        /// The first tick of the current run of ticks where the condition was clear (the recovery timer).
        var clearSince: Date?
        /// An operator stopped a failover while the platforms were down: no automatic (re)open until clear once.
        var suppressed = false
    }

    /// A decision returned and not yet recorded.
    enum Pending: Sendable, Hashable {
        /// `.open` or `.reopen`.
        case open
        case resolve(incident: Int64)
    }

    /// `latest`: each business's newest incident as the store holds it, open or resolved.
    /// When two policies share a business id, the last one wins.
    public init(policies: [Policy], latest: [BusinessID: BusinessIncident]) {
        detached = latest.mapValues { Memory(latest: $0) }
        install(policies)
    }

    /// Replaces the policies (a reload). A business whose policy disappeared and has an open incident
    /// gets `.resolve` with reason "business removed from the policies directory". Open incidents of
    /// businesses still present are kept; their new policy applies from now on (a new grace at the
    /// next `evaluate`; a changed `dependsOn` or `failWhen` restarts the recovery timer).
    public mutating func replacePolicies(_ policies: [Policy], now: Date) -> [EngineDecision] {
        for entry in entries { detached[entry.business] = entry.memory }
        let previous = Dictionary(entries.map { ($0.business, $0.condition) }, uniquingKeysWith: { $1 })
        install(policies)
        for i in entries.indices {
            if let old = previous[entries[i].business], !old.judgesLike(entries[i].condition) {
                entries[i].memory.clearSince = nil
            }
        }
        return resolveDetached()
    }

    /// One tick: decisions for every business, sorted by business id. Pure apart from the engine's own timers.
    public mutating func evaluate(statuses: [PlatformID: PlatformStatus], overrides: EngineOverrides,
                                  now: Date) -> [EngineDecision] {
        lastOverrides = overrides
        var decisions: [EngineDecision] = []
        for i in entries.indices {
            if let decision = Self.decide(&entries[i], statuses: statuses, overrides: overrides, now: now) {
                decisions.append(decision)
            }
        }
        if !detached.isEmpty {
            let removed = resolveDetached()
            if !removed.isEmpty {
                decisions += removed
                decisions.sort { $0.business < $1.business }
            }
        }
        return decisions
    }

    /// The daemon tells the engine what the store now holds after applying a decision or a manual
    /// action (nil: the business has no incident). Clears the decision the engine was waiting on.
    /// A daemon that failed to apply a decision records what the store still holds, so the engine may decide again.
    public mutating func record(_ business: BusinessID, incident: BusinessIncident?) {
        update(business) {
            $0.latest = incident
            $0.pending = nil
        }
    }

    /// After an operator stops a failover by hand while the platforms are still down: no automatic
    /// (re)open for this business until its failover condition has been clear (false, no unknown) at least once.
    public mutating func suppressUntilClear(_ business: BusinessID) {
        update(business) { $0.suppressed = true }
    }

    // MARK: Deciding

    /// The decision for one business this tick, if any, updating its timers and pending marker.
    private static func decide(_ entry: inout Entry, statuses: [PlatformID: PlatformStatus],
                               overrides: EngineOverrides, now: Date) -> EngineDecision? {
        let condition = entry.condition
        let verdict = condition.verdict(statuses)
        if verdict == .clear {
            if entry.memory.clearSince == nil { entry.memory.clearSince = now }
            entry.memory.suppressed = false
        } else {
            entry.memory.clearSince = nil
        }
        let business = entry.business

        if let incident = entry.memory.latest, incident.isOpen {
            // Only the probes' own incidents end by themselves; a hold does not stop an all-clear.
            guard incident.origin == .probes, entry.memory.pending == nil,
                  !overrides.manualFailover.contains(business),
                  let clearSince = entry.memory.clearSince, now.isAtLeast(condition.recoveryGrace, after: clearSince)
            else { return nil }
            entry.memory.pending = .resolve(incident: incident.id)
            let reason = EngineText.recovered(condition.statuses(in: statuses, now: now), clearFor: clearSince,
                                              recoveryGrace: condition.recoveryGrace, now: now)
            return .resolve(business, incident: incident.id, reason: reason)
        }

        guard case .failing(let since) = verdict, now.isAtLeast(condition.grace, after: since),
              entry.memory.pending == nil, !entry.memory.suppressed,
              !overrides.manualFailover.contains(business), !overrides.isHeld(business, at: now)
        else { return nil }
        entry.memory.pending = .open
        let down = condition.down(in: statuses)
        let platforms = down.map(\.platform)
        if let resumed = resumable(entry.memory.latest, cooldown: condition.cooldown, now: now),
           let resolvedAt = resumed.resolvedAt {
            let reason = EngineText.reopened(down, resolvedAt: resolvedAt, cooldown: condition.cooldown, now: now)
            return .reopen(business, incident: resumed.id, platforms: platforms, reason: reason)
        }
        return .open(business, platforms: platforms, reason: EngineText.opened(down, now: now))
    }

    /// The resolved incident a new failure would continue: opened by the probes and resolved less
    /// than `cooldown` ago. An operator's incident is never continued by the probes: the store would
    /// keep it manual, and the probes could then never end it.
    static func resumable(_ latest: BusinessIncident?, cooldown: TimeSpan, now: Date) -> BusinessIncident? {
        guard let latest, latest.origin == .probes, let resolvedAt = latest.resolvedAt,
              !now.isAtLeast(cooldown, after: resolvedAt) else { return nil }
        return latest
    }

    /// `.resolve` for every business without a policy whose incident is open and not already being resolved.
    private mutating func resolveDetached() -> [EngineDecision] {
        var due: [(business: BusinessID, incident: Int64)] = []
        for (business, memory) in detached {
            if let incident = memory.latest, incident.isOpen, memory.pending != .resolve(incident: incident.id) {
                due.append((business, incident.id))
            }
        }
        return due.sorted { $0.business < $1.business }.map { business, incident in
            detached[business]?.pending = .resolve(incident: incident)
            return .resolve(business, incident: incident, reason: EngineText.removed)
        }
    }

    // MARK: Bookkeeping

    /// Makes `policies` the ones in force, moving each business's memory from `detached` to its entry.
    private mutating func install(_ list: [Policy]) {
        var byID: [BusinessID: Policy] = [:]
        for policy in list { byID[policy.business] = policy }
        policies = byID
        entries = byID.sorted { $0.key < $1.key }.map { business, policy in
            Entry(business: business, condition: FailoverCondition(policy),
                  memory: detached.removeValue(forKey: business) ?? Memory())
        }
        index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.business, $0) })
    }

    /// Changes the memory of `business`, with or without a policy.
    private mutating func update(_ business: BusinessID, _ change: (inout Memory) -> Void) {
        if let i = index[business] {
            change(&entries[i].memory)
        } else {
            change(&detached[business, default: Memory()])
        }
    }

    // MARK: Reading

    /// The memory of `business` and the condition it is judged by (nil without a policy).
    func state(of business: BusinessID) -> (memory: Memory?, condition: FailoverCondition?) {
        if let i = index[business] { return (entries[i].memory, entries[i].condition) }
        return (detached[business], nil)
    }

    /// The overrides of the last `evaluate`.
    var overridesInForce: EngineOverrides { lastOverrides }
}
