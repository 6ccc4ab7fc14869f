import DetourCore
import Foundation
import PostgresNIO

/// One node's hold on the leadership of a cluster: only the leader decides (opens, reopens and
/// resolves incidents). The term grows by one each time the leadership changes hands, and is the
/// fencing token: a write of the deciding side carries it, and the store refuses it once another
/// node holds a newer term.
public struct LeaderLease: Sendable, Hashable, Codable {
    public var node: String
    public var term: Int64
    public var expiresAt: Date

    public init(node: String, term: Int64, expiresAt: Date) {
        self.node = node; self.term = term; self.expiresAt = expiresAt
    }
}

// MARK: Nodes and the leader

extension PostgresStore {
    /// Takes or renews the leadership for `node` until `now + lease`, in one transaction on the one
    /// `leader` row: the node that holds it renews (same term); any node takes it once it has expired
    /// (term + 1); nobody else gets it while it lasts (nil). Two nodes asking at once take turns on
    /// the row's lock, so exactly one wins.
    public func lead(node: String, lease: Duration, now: Date) async throws -> LeaderLease? {
        let until = now.addingTimeInterval(lease.timeInterval)
        return try await write("taking the leadership for \(node)") { [self] c in
            // The first node ever: the row is made here. Two first nodes at once: the second waits
            // for the first's insert, does nothing, and reads the row below like any other node.
            let made = try await c.query("""
                INSERT INTO leader (id, node, term, expires_at) VALUES (1, \(node), 1, \(until.pgValue))
                ON CONFLICT (id) DO NOTHING RETURNING term
                """, logger: logger).collect()
            if !made.isEmpty { return LeaderLease(node: node, term: 1, expiresAt: until) }
            let rows = try await c.query("SELECT node, term, expires_at FROM leader WHERE id = 1 FOR UPDATE", logger: logger).collect()
            guard let row = rows.first else { throw StoreError(.unavailable, "the leader row vanished") }
            let (holder, term, expires) = try row.decode((String, Int64, Double).self)
            let term2: Int64
            if holder == node && expires >= now.pgValue {
                term2 = term
            } else if expires < now.pgValue {
                term2 = term + 1
            } else {
                return nil
            }
            try await c.query("""
                UPDATE leader SET node = \(node), term = \(term2), expires_at = \(until.pgValue) WHERE id = 1
                """, logger: logger)
            return LeaderLease(node: node, term: term2, expiresAt: until)
        }
    }

    /// Gives the leadership up at once (a graceful stop), if `lease` still holds it, so another node
    /// need not wait for it to expire.
    public func stepDown(_ lease: LeaderLease, now: Date) async throws {
        try await write("giving up the leadership of \(lease.node)") { [self] c in
            try await c.query("""
                UPDATE leader SET expires_at = \(now.pgValue - 1) WHERE id = 1 AND node = \(lease.node) AND term = \(lease.term)
                """, logger: logger)
        }
    }

    /// Who leads, with which term and until when; nil before any node has led.
    public func leader() async throws -> LeaderLease? {
        try await rows("reading the leader", "SELECT node, term, expires_at FROM leader WHERE id = 1").first.map { row in
            let (node, term, expires) = try row.decode((String, Int64, Double).self)
            return LeaderLease(node: node, term: term, expiresAt: Date(pgValue: expires))
        }
    }

    /// From now on, incident writes through this store carry `lease`'s term and are refused once
    /// another node leads (nil: not fenced, as on one machine).
    public func fence(with lease: LeaderLease?) {
        fenceLease.withLock { $0 = lease }
    }

    /// Inside an incident write's transaction: refuses it when this store is fenced and its term is
    /// no longer the leader's. The leader row is read FOR SHARE, so a takeover waits for this write
    /// to commit, or this write sees the new term.
    func checkFence(_ c: PostgresConnection) async throws {
        guard let lease = fenceLease.withLock({ $0 }) else { return }
        let rows = try await c.query("SELECT node, term FROM leader WHERE id = 1 FOR SHARE", logger: logger).collect()
        let current = try rows.first.map { try $0.decode((String, Int64).self) }
        guard let current, current.0 == lease.node, current.1 == lease.term else {
            let now = current.map { "\($0.0) leads with term \($0.1)" } ?? "no node leads"
            throw StoreError(.conflict, "\(lease.node) no longer leads (its term \(lease.term) has passed: \(now)); "
                             + "the incident change was not written")
        }
    }

    /// Records that `node` is alive at `now` (and when it started), for `detour status` and for
    /// telling a live node from one that stopped.
    public func heartbeat(node: String, startedAt: Date, now: Date) async throws {
        try await write("recording the heartbeat of \(node)") { [self] c in
            try await c.query("""
                INSERT INTO nodes (name, started_at, heartbeat_at) VALUES (\(node), \(startedAt.pgValue), \(now.pgValue))
                ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at
                """, logger: logger)
        }
    }

    /// Every node that has heartbeaten, by name: when it started and when it was last heard of.
    public func nodes() async throws -> [(name: String, startedAt: Date, heartbeatAt: Date)] {
        try await rows("listing the nodes", "SELECT name, started_at, heartbeat_at FROM nodes ORDER BY name").map { row in
            let (name, started, beat) = try row.decode((String, Double, Double).self)
            return (name, Date(pgValue: started), Date(pgValue: beat))
        }
    }
}
