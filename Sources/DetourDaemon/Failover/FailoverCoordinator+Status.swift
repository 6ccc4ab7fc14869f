import DetourCore
import DetourStore
import Foundation

extension FailoverCoordinator {
    /// Everything `detour status` shows.
    func statusReport(daemon: StatusReport.Daemon) async throws -> StatusReport {
        let at = now()
        let current = statuses
        let platforms = config.daemon.platforms.values.sorted { $0.id < $1.id }.map { spec in
            let s = current[spec.id]
            var p = StatusReport.Platform(platform: spec.id.rawValue, name: spec.displayName, state: s?.state.rawValue ?? "unknown",
                                          reason: s?.reason ?? "not probed yet", since: s?.since ?? at)
            let alerts = (credentialAlerts[spec.id] ?? [:]).sorted { $0.key < $1.key }.map { "TOKEN REFUSED: \($0.key): \($0.value)" }
                + (feedAlerts[spec.id] ?? [:]).sorted { $0.key < $1.key }.map { "NOT IN FEED: \($0.key): \($0.value)" }
            if !alerts.isEmpty { p.alerts = alerts }
            return p
        }
        // A cluster node whose database does not answer still says what it knows, and what is wrong.
        let clustered = clusterVote != nil
        var unreachable: String?
        var open: [IncidentRecord]
        if clustered, storeHealth != nil {
            // The database is known not to answer: a read would wait out its deadline, longer than
            // the CLI waits. Say what this node knows.
            open = desk.knownOpenIncidents()
            unreachable = storeHealth?.summary
        } else {
            do { open = try await store.incidents(IncidentFilter(state: .open, limit: 100_000)) } catch where clustered {
                unreachable = "\(error)"
                open = desk.knownOpenIncidents()
            }
        }
        let openByBusiness = Dictionary(open.map { ($0.business, $0) }, uniquingKeysWith: { a, _ in a })
        let activeHolds = overrideRecords.filter { $0.kind == .hold && ($0.expiresAt.map { $0 > at } ?? true) }
        var listed = Set(openByBusiness.keys)
        listed.formUnion(activeHolds.map(\.business))
        listed.formUnion(manualFailovers.map(\.business))
        let businesses = listed.sorted().map { b in
            StatusReport.Business(
                business: b.rawValue, name: (policies[b] ?? retired[b])?.displayName ?? b.rawValue,
                incident: openByBusiness[b], hold: activeHolds.first { $0.business == b },
                manual: manualFailovers.first { $0.business == b },
                explanation: policies[b] == nil ? "removed from the policies directory" : engine.explain(b, statuses: current, now: at))
        }
        var depth: [DeliveryState: Int] = [:]
        if unreachable == nil {
            do { depth = try await store.queueDepth() } catch where clustered { unreachable = "\(error)" }
        }
        metrics.setQueueDepth(depth)
        var queue: [String: Int] = [:]
        for (state, n) in depth { queue[state.rawValue] = n }
        let disabled = desk.disabledWebhooks
        var report = StatusReport(daemon: daemon, platforms: platforms, businesses: businesses,
                                  quietBusinesses: max(0, policies.count - businesses.filter { policies[BusinessID($0.business)] != nil }.count),
                                  queue: queue, lastReload: lastReload, disabledWebhooks: disabled)
        if let postgres = store as? PostgresStore, let node = nodeName {
            var lease: LeaderLease?
            var nodes: [(name: String, startedAt: Date, heartbeatAt: Date)] = []
            if unreachable == nil {
                do {
                    lease = try await postgres.leader()
                    nodes = try await postgres.nodes()
                } catch { unreachable = "\(error)" }
            }
            report.cluster = StatusReport.Cluster(
                node: node, leads: isLeading, leader: lease?.node, term: lease?.term, leaseExpiresAt: lease?.expiresAt,
                nodes: nodes.map { .init(name: $0.name, startedAt: $0.startedAt, lastHeartbeat: $0.heartbeatAt) },
                views: lastViews, quorum: quorum,
                database: storeHealth?.summary ?? unreachable.map { "the state database does not answer: \($0)" })
        }
        return report
    }

    /// The one-line summary for systemd's STATUS=.
    func summaryLine() async -> String {
        let current = statuses.values
        let down = current.filter { $0.state == .down }.map(\.platform.rawValue).sorted()
        let unknown = current.contains { $0.state == .unknown }
        let open = latest.values.filter(\.isOpen).count
        var parts: [String] = []
        parts.append(down.isEmpty ? (unknown ? "some platforms unknown" : "platforms operational") : "down: \(down.joined(separator: ", "))")
        parts.append("\(open) incident\(open == 1 ? "" : "s") open")
        parts.append("\(policies.count) policies")
        if !lastReload.ok { parts.append("last reload refused") }
        return parts.joined(separator: "; ")
    }
}
