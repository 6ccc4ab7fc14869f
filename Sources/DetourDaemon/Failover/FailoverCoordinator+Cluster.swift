import DetourCore
import DetourProbes
import DetourStore
import Foundation

// MARK: - The vote, the followers' view and operators on any node (several nodes on PostgreSQL)

extension FailoverCoordinator {
    /// Keeps this node's own view of a platform after one of its rounds, for the vote. A change of
    /// this node's own view is logged; the cluster's status changes are the vote's.
    func noteOwnView(_ round: ProbeRound, change: StatusTransition?) {
        guard let node = nodeName, let status = tracker.status(of: round.platform) else { return }
        ownViews[round.platform] = NodeView(node: node, platform: round.platform, state: status.state, reason: status.reason,
                                            controlsPass: HealthTracker.controlsPass(round.controls), since: status.since, at: round.at)
        if let change {
            logger.info("this node's own view of a platform changed", metadata: [
                "platform": "\(change.platform)", "status.from": "\(change.from.rawValue)",
                "status.to": "\(change.to.rawValue)", "status.reason": "\(change.reason)",
            ])
        }
    }

    /// This node's views, to record for the others.
    func currentOwnViews() -> [NodeView] {
        ownViews.values.sorted { $0.platform < $1.platform }
    }

    /// Takes every node's views and settles each platform's status by vote. The leader records and
    /// logs each change; every node shows the result in `detour status` and `/metrics`.
    func vote(_ views: [NodeView]) async {
        guard var vote = clusterVote else { return }
        let at = now()
        var maxAge: [PlatformID: Double] = [:]
        for (id, spec) in config.daemon.platforms {
            maxAge[id] = max(3 * spec.health.interval.seconds + spec.health.timeout.seconds, leaseSeconds)
        }
        let changes = vote.update(platforms: tracker.statuses.map(\.platform), views: views, quorum: quorum, maxAge: maxAge, now: at)
        clusterVote = vote
        lastViews = views
        for change in changes {
            metrics.setPlatformState(change.platform, change.to)
            guard isLeading else { continue }
            logger.notice("platform status changed by the nodes' vote", metadata: [
                "platform": "\(change.platform)", "status.from": "\(change.from.rawValue)",
                "status.to": "\(change.to.rawValue)", "status.reason": "\(change.reason)",
            ])
            do { try await store.record(change) } catch {
                logger.error("cannot record a status transition", metadata: ["error": "\(error)"])
            }
        }
    }

    /// On a node that does not lead: adopts what the leader decided (incidents and overrides), so
    /// `detour status`, the engine it would run on taking over and its gauges are current.
    func adopt(_ incidents: [IncidentRecord], overrides: [OverrideRecord]) {
        guard !isLeading else { return }
        var fresh: [BusinessID: BusinessIncident] = [:]
        for record in incidents {
            fresh[record.business] = record.engineView
            desk.noteIncident(record)
        }
        for business in Set(latest.keys).union(fresh.keys) where latest[business] != fresh[business] {
            noteIncident(business, incident: fresh[business])
        }
        overrideRecords = overrides
        updateGauges()
    }

    // MARK: Operators

    /// Carries out an operator's change (`failover start|stop`, `hold`, `release`) on the node that
    /// decides; `by` names the caller (and, on a cluster, the node they asked).
    public func carryOut(_ request: ControlRequest, by: String) async throws -> String {
        switch request {
        case .failoverStart(let start):
            return try await startFailover(business: start.business, platforms: start.platforms, reason: start.reason, by: by,
                                           newIncident: start.newIncident)
        case .failoverStop(let business):
            return try await stopFailover(business: business, by: by)
        case .hold(let hold):
            var until: Date?
            if let seconds = hold.seconds {
                guard seconds.isFinite, seconds > 0, seconds <= Hold.longest.seconds else {
                    throw CommandError(message: "a hold of \(seconds) seconds is out of range",
                                       hint: "hold for more than 0s and at most \(Hold.longest), or until `detour release`")
                }
                until = now().addingTimeInterval(seconds)
            }
            return try await self.hold(business: hold.business, until: until, reason: hold.reason, by: by)
        case .release(let business):
            return try await release(business: business, by: by)
        default:
            throw CommandError(message: "\(request.name.rawValue) is not a change the leader carries out", hint: "run it on any node")
        }
    }

    func setStoreHealth(_ health: StoreHealth) { storeHealth = health }

    /// Whether an operator's change asked on this node must be passed to the leader.
    var passesChangesToLeader: Bool { clusterVote != nil && !isLeading }
}
