import DetourCore
import DetourStore
import Foundation

// MARK: - Leading (several nodes on one PostgreSQL database)

extension FailoverCoordinator {
    /// Makes this node decide (`true`) or only observe (`false`). On one machine it always decides.
    /// Taking the lead reads again what the store holds (incidents, overrides), since another node
    /// may have decided meanwhile, then brings the store in line as a restart would.
    public func setLeading(_ leading: Bool, leader: String?) async {
        leaderName = leader
        guard leading != isLeading else { return }
        isLeading = leading
        guard leading else {
            logger.notice("this node no longer leads; it keeps delivering but decides nothing", metadata: ["leader": "\(leader ?? "none")"])
            return
        }
        do {
            var fresh: [BusinessID: BusinessIncident] = [:]
            for record in try await store.latestIncidents() {
                fresh[record.business] = record.engineView
                desk.noteIncident(record)
            }
            for business in Set(latest.keys).union(fresh.keys) { noteIncident(business, incident: fresh[business]) }
            overrideRecords = try await store.overrides()
            try await recover()
            logger.notice("this node leads: it decides for every business")
        } catch {
            logger.error("took the lead but cannot read the store; deciding resumes on the next tick", metadata: ["error": "\(error)"])
        }
    }

    /// A cluster node starts as a follower: it decides nothing until it holds the leader lease.
    /// From then on platform statuses come from every node's vote (`quorum` nodes, nil for a majority).
    public func startFollowing(as node: String, quorum: Int? = nil, lease: Duration = .seconds(15)) {
        isLeading = false
        nodeName = node
        self.quorum = quorum
        leaseSeconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        clusterVote = ClusterVote()
    }

    /// Refuses an operator's change on a node that does not lead, naming the one that does.
    func requireLeading() throws {
        guard isLeading else {
            throw CommandError(message: "this node does not lead the cluster, so it decides nothing"
                               + (leaderName.map { "; \($0) leads" } ?? "; no node leads right now"),
                               hint: "run the command on the leading node (detour status there says it leads)")
        }
    }
}
