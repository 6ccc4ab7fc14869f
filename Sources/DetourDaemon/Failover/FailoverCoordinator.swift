import DetourChannels
import DetourConfig
import DetourCore
import DetourProbes
import DetourStore
import DetourTransport
import Foundation
import Logging

/// The one place where the daemon's decisions are made and written: platform health from probe
/// rounds, the failover engine's decisions, manual overrides, and reloads. Everything that opens or
/// resolves an incident goes through this actor, so decisions are serialised and each one is
/// written (with all of its deliveries) in one store transaction.
public actor FailoverCoordinator {
    let store: any Store
    let logger: Logger
    let metrics: DetourMetrics
    let planner = DeliveryPlanner()
    /// The delivering side: told of every incident this actor writes, asked which webhooks are gone,
    /// and given each new configuration. Nothing there ever calls back here.
    let desk: DeliveryDesk
    let now: @Sendable () -> Date
    let wakeWorkers: @Sendable () -> Void

    var config: LoadedConfiguration
    /// Policies in force, and those of businesses removed while an incident was open (kept to send the all-clear).
    var policies: [BusinessID: Policy] = [:]
    var retired: [BusinessID: Policy] = [:]
    var policyVersions: [BusinessID: Int64] = [:]
    var tracker: HealthTracker
    var engine: FailoverEngine
    /// The newest incident of each business, as the store holds it.
    var latest: [BusinessID: BusinessIncident] = [:]
    /// Probes whose own credentials are refused (an expired token), by platform and probe: an operator's
    /// problem, shown in `status` and `/metrics` and logged, never an outage.
    var credentialAlerts: [PlatformID: [String: String]] = [:]
    /// Status-feed probes whose component the feed does not publish (a misspelt or retired one), by platform and probe.
    var feedAlerts: [PlatformID: [String: String]] = [:]
    var overrideRecords: [OverrideRecord] = []
    var lastReload: ReloadReport
    /// Runs reloads one at a time.
    let reloads = OneAtATime()
    /// Whether this node decides; false on a cluster node that does not hold the leader lease.
    var isLeading = true
    /// The node that leads, when known (for messages).
    var leaderName: String?
    /// This node's name on a cluster; nil on one machine.
    var nodeName: String?
    /// On a cluster: this node's own view of each platform, recorded every round for the vote.
    var ownViews: [PlatformID: NodeView] = [:]
    /// On a cluster: the platform statuses every node's views vote for; nil on one machine.
    var clusterVote: ClusterVote?
    /// On a cluster: every node's views as last read, for `detour status`.
    var lastViews: [NodeView] = []
    /// On a cluster: whether the database answers, for `detour status`.
    var storeHealth: StoreHealth?
    /// How many nodes must see a platform down (`cluster.quorum`); nil: a majority of those that can tell.
    var quorum: Int?
    /// The leader lease, in seconds: a node's view older than this (or three rounds) no longer counts.
    var leaseSeconds: Double = 15
    /// Called with the new platform specs when a reload changes what is probed.
    var onPlatformsChanged: (@Sendable (DaemonConfig) -> Void)?

    public init(config: LoadedConfiguration, store: any Store, metrics: DetourMetrics, desk: DeliveryDesk, logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }, wakeWorkers: @escaping @Sendable () -> Void) async throws {
        self.config = config
        self.store = store
        self.metrics = metrics
        self.desk = desk
        self.logger = logger
        self.now = now
        self.wakeWorkers = wakeWorkers
        let at = now()
        tracker = HealthTracker(platforms: Array(config.daemon.platforms.values), start: at)
        metrics.watch(Array(config.daemon.platforms.keys))
        for policy in config.policies { policies[policy.business] = policy }
        var latest: [BusinessID: BusinessIncident] = [:]
        for record in try await store.latestIncidents() {
            latest[record.business] = record.engineView
            desk.noteIncident(record)
            if record.state == .open, policies[record.business] == nil {
                // Removed from the policies directory while the daemon was down: resolved by the engine below.
                logger.notice("business with an open incident is gone from the policies directory", metadata: ["business": "\(record.business)"])
            }
        }
        engine = FailoverEngine(policies: config.policies, latest: latest)
        self.latest = latest
        lastReload = ReloadReport(at: at, ok: true, message: "started with \(config.policies.count) policies from \(config.daemon.file)")
        overrideRecords = try await store.overrides()
        let ids = try await store.recordPolicyVersions(config.policies.map { $0.version(at: at) })
        for (policy, id) in zip(config.policies, ids) { policyVersions[policy.business] = id }
    }

    /// Brings the store in line with what was decided before a restart.
    public func recover() async throws {
        let at = now()
        // A manual failover whose incident was never opened (a crash between the two writes) is opened now.
        for o in overrideRecords where o.kind == .failover {
            if let latest = latest[o.business], latest.isOpen { continue }
            try await openManual(business: o.business, platforms: o.platforms, reason: o.reason, by: o.setBy, at: at)
        }
        // Businesses that vanished while the daemon was down.
        let stale = try await store.latestIncidents().filter { $0.state == .open && policies[$0.business] == nil }
        for record in stale {
            try await resolve(record.id, business: record.business, by: "reload", reason: "business removed from the policies directory", at: at)
        }
        updateGauges()
    }

    /// Tells the engine (and this actor's own view) what the store now holds for a business.
    func noteIncident(_ business: BusinessID, incident: BusinessIncident?) {
        latest[business] = incident
        engine.record(business, incident: incident)
    }

    public func setPlatformsChangedHandler(_ handler: @escaping @Sendable (DaemonConfig) -> Void) {
        onPlatformsChanged = handler
    }

    // MARK: - Health

    /// Feeds one probe round to the health tracker and records a status change.
    public func observe(_ round: ProbeRound) async {
        metrics.probeRound(platform: round.platform)
        noteCredentials(round)
        let observation = RoundObservation(platform: round.platform, results: round.results, at: round.at)
        let change = tracker.observe(observation, controls: round.controls)
        if clusterVote != nil {
            noteOwnView(round, change: change)
            return
        }
        guard let transition = change else { return }
        logger.notice("platform status changed", metadata: [
            "platform": "\(transition.platform)", "status.from": "\(transition.from.rawValue)",
            "status.to": "\(transition.to.rawValue)", "status.reason": "\(transition.reason)",
        ])
        metrics.setPlatformState(transition.platform, transition.to)
        do { try await store.record(transition) } catch {
            logger.error("cannot record a status transition", metadata: ["error": "\(error)"])
        }
    }

    /// Raises (once) and clears the operator alert of a probe whose access token is refused.
    func noteCredentials(_ round: ProbeRound) {
        var alerts = credentialAlerts[round.platform] ?? [:]
        for result in round.results {
            if result.notice == .tokenRefused {
                if alerts[result.probe] == nil {
                    logger.error("a probe's access token is refused: renew it (this is not an outage; no customer is told)", metadata: [
                        "platform": "\(round.platform)", "probe": "\(result.probe)", "detail": "\(result.detail)",
                    ])
                    let name = config.daemon.platforms[round.platform]?.displayName ?? round.platform.rawValue
                    let text = "The access token of Detour's probe \"\(result.probe)\" of \(name) is refused: \(result.detail). "
                        + "This is not an outage and no customer was told anything, but until the token is renewed Detour cannot see "
                        + "this API fail. Renew it where the daemon reads it and reload (systemctl reload detour)."
                    for policy in policies.values where policy.dependsOn.contains(round.platform) {
                        guard let webhook = policy.staffWebhook else { continue }
                        let desk = self.desk
                        Task { await desk.sendAlert(business: policy.business, webhook: webhook, platform: name, text: text) }
                    }
                }
                alerts[result.probe] = result.detail
            } else if alerts.removeValue(forKey: result.probe) != nil {
                logger.notice("a probe's access token is accepted again", metadata: ["platform": "\(round.platform)", "probe": "\(result.probe)"])
            }
        }
        credentialAlerts[round.platform] = alerts.isEmpty ? nil : alerts
        metrics.setCredentialProblems(round.platform, alerts.count)
        var missing = feedAlerts[round.platform] ?? [:]
        for result in round.results where result.corroborating {
            if result.notice == .notInFeed {
                if missing[result.probe] == nil {
                    logger.warning("a status feed does not publish the component its probe names; it can never corroborate anything",
                                   metadata: ["platform": "\(round.platform)", "probe": "\(result.probe)", "detail": "\(result.detail)"])
                }
                missing[result.probe] = result.detail
            } else if result.verdict != .unknown {
                missing.removeValue(forKey: result.probe)
            }
        }
        feedAlerts[round.platform] = missing.isEmpty ? nil : missing
    }

    /// The statuses decisions are made on: this node's own on one machine, the nodes' vote on a cluster.
    var statuses: [PlatformID: PlatformStatus] {
        if let clusterVote { return clusterVote.current }
        return Dictionary(tracker.statuses.map { ($0.platform, $0) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: - Engine

    /// One evaluation of every policy; applies what the engine decides.
    public func tick() async {
        guard isLeading else { return }
        let at = now()
        let decisions = engine.evaluate(statuses: statuses, overrides: engineOverrides(at: at), now: at)
        for decision in decisions { await apply(decision, at: at) }
        if !decisions.isEmpty { updateGauges() }
    }

    func engineOverrides(at: Date) -> EngineOverrides {
        var o = EngineOverrides()
        for r in overrideRecords {
            switch r.kind {
            case .failover: o.manualFailover.insert(r.business)
            case .hold: if r.expiresAt.map({ $0 > at }) ?? true { o.holds[r.business] = r.expiresAt }
            }
        }
        return o
    }

    func apply(_ decision: EngineDecision, at: Date) async {
        do {
            switch decision {
            case .open(let business, let platforms, let reason):
                try await open(business, origin: .probes, by: "probes", platforms: platforms, reason: reason, at: at, audit: nil)
            case .reopen(let business, let incident, let platforms, let reason):
                guard let policy = policies[business] else { return }
                try await reopen(incident, policy: policy, platforms: platforms, reason: reason, at: at)
            case .resolve(let business, let incident, let reason):
                // A business whose policy a reload removed is resolved by that reload, not by the probes.
                let by = policies[business] == nil ? "reload" : "probes"
                try await resolve(incident, business: business, by: by, reason: reason, at: at)
            }
        } catch {
            logger.error("cannot apply a failover decision", metadata: ["business": "\(decision.business)", "error": "\(error)"])
            noteIncident(decision.business, incident: try? await store.incidents(IncidentFilter(business: decision.business, limit: 1)).first?.engineView)
        }
    }
}

/// The result of the last configuration load, for `detour status`.
public struct ReloadReport: Sendable, Hashable, Codable {
    public var at: Date
    public var ok: Bool
    public var message: String
}

extension IncidentRecord {
    /// What the engine needs to know of a stored incident.
    var engineView: BusinessIncident {
        BusinessIncident(id: id, origin: origin, platforms: platforms, openedAt: openedAt,
                         resolvedAt: state == .open ? nil : (resolvedAt ?? openedAt))
    }
}

extension Policy {
    func version(at: Date) -> PolicyVersion {
        PolicyVersion(business: business, file: source.file, contentHash: source.contentHash, loadedAt: at)
    }
}

/// Runs operations one after another, each after the previous one has finished, in the order asked.
actor OneAtATime {
    private var last: Task<Void, Never>?

    func run<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> T {
        let previous = last
        let task = Task<T, Never> {
            await previous?.value
            return await operation()
        }
        last = Task { _ = await task.value }
        return await task.value
    }
}
