import DetourCore
import Foundation
import PostgresNIO

// MARK: The outbox

extension PostgresStore {
    /// As `SQLiteStore.claim`, and safe between nodes: each of the three kinds of due row (queued,
    /// failed and due again, sending under an expired lease) is picked with `FOR UPDATE SKIP LOCKED`,
    /// so two nodes claiming at once take different rows and neither waits for the other.
    public func claim(channel: ChannelKind, limit: Int, owner: String, lease: Duration, now: Date) async throws
        -> [DeliveryRecord] {
        guard limit > 0 else { return [] }
        let until = now.addingTimeInterval(lease.timeInterval).pgValue
        let at = now.pgValue
        let kind = channel.rawValue
        return try await write("claiming \(channel) deliveries for \(owner)") { [self] c in
            try await c.query("""
                WITH queued AS (
                    SELECT id, next_attempt_at FROM deliveries
                    WHERE channel = \(kind) AND state = 'queued' AND next_attempt_at <= \(at)
                    ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED),
                failed AS (
                    SELECT id, next_attempt_at FROM deliveries
                    WHERE channel = \(kind) AND state = 'failed' AND next_attempt_at <= \(at)
                    ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED),
                expired AS (
                    SELECT id, next_attempt_at FROM deliveries
                    WHERE channel = \(kind) AND state = 'sending' AND lease_expires_at < \(at)
                    ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED),
                picked AS (
                    SELECT id FROM (SELECT * FROM queued UNION ALL SELECT * FROM failed UNION ALL SELECT * FROM expired) due
                    ORDER BY next_attempt_at, id LIMIT \(limit))
                UPDATE deliveries SET state = 'sending', lease_owner = \(owner), lease_expires_at = \(until),
                    attempts = attempts + 1
                FROM picked WHERE deliveries.id = picked.id
                RETURNING \(unescaped: Self.qualifiedDeliveryColumns)
                """, logger: logger).collect().map(PostgresRows.delivery)
                .sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    private static let qualifiedDeliveryColumns = PostgresRows.deliveryColumns
        .split(separator: ",").map { "deliveries.\($0.trimmingCharacters(in: .whitespacesAndNewlines))" }.joined(separator: ", ")

    public func complete(_ id: Int64, owner: String, outcome: DeliveryOutcome, now: Date) async throws -> Bool {
        try await complete([CompletedDelivery(id: id, outcome: outcome)], owner: owner, now: now).isEmpty
    }

    /// As `SQLiteStore.complete`: every outcome in one statement, each only if `owner` still holds
    /// the row's lease; returns the ids it could not record (lost leases, or an id given twice).
    public func complete(_ outcomes: [CompletedDelivery], owner: String, now: Date) async throws -> [Int64] {
        guard !outcomes.isEmpty else { return [] }
        // An id given twice is recorded once: its first outcome, as one after another would.
        var seen = Set<Int64>()
        var lost: [Int64] = []
        var ids: [Int64] = [], states: [String] = [], texts: [String] = [], retries: [Double] = []
        for done in outcomes {
            guard seen.insert(done.id).inserted else { lost.append(done.id); continue }
            ids.append(done.id)
            switch done.outcome {
            case .sent(let reply): states.append("sent"); texts.append(reply); retries.append(0)
            case .retry(let error, let at): states.append("failed"); texts.append(error); retries.append(at.pgValue)
            case .dead(let error): states.append("dead"); texts.append(error); retries.append(0)
            }
        }
        let at = now.pgValue
        let recorded = try await write("completing \(outcomes.count) deliveries for \(owner)") { [self, ids, states, texts, retries] c in
            try await lockInOrder(ids, c)
            return Set(try await c.query("""
                UPDATE deliveries d SET state = o.state,
                    reply = CASE WHEN o.state = 'sent' THEN o.text ELSE d.reply END,
                    sent_at = CASE WHEN o.state = 'sent' THEN \(at) ELSE d.sent_at END,
                    last_error = CASE WHEN o.state = 'sent' THEN d.last_error ELSE o.text END,
                    next_attempt_at = CASE WHEN o.state = 'failed' THEN o.retry_at ELSE d.next_attempt_at END,
                    lease_owner = NULL, lease_expires_at = NULL
                FROM unnest(\(ids)::bigint[], \(states)::text[], \(texts)::text[], \(retries)::float8[]) AS o(id, state, text, retry_at)
                WHERE d.id = o.id AND d.state = 'sending' AND d.lease_owner = \(owner)
                RETURNING d.id
                """, logger: logger).collect().map { try $0.decode(Int64.self) })
        }
        return lost + ids.filter { !recorded.contains($0) }
    }

    /// Locks the rows in id order before a statement updates them: the outcome writes and the lease
    /// renewals of one node run at once on overlapping rows, and two statements that lock the same
    /// rows in different orders deadlock (PostgreSQL then aborts one of them).
    private func lockInOrder(_ ids: [Int64], _ c: PostgresConnection) async throws {
        try await c.query("SELECT id FROM deliveries WHERE id = ANY(\(ids)::bigint[]) ORDER BY id FOR UPDATE", logger: logger)
    }

    private func updated(_ c: PostgresConnection, _ query: PostgresQuery) async throws -> Int {
        try await c.query(query, logger: logger).collect().count
    }

    /// Only rows still `sending` under `owner` are extended.
    public func renewLeases(_ ids: [Int64], owner: String, until: Date) async throws {
        guard !ids.isEmpty else { return }
        try await write("renewing the leases of \(owner)") { [self] c in
            try await lockInOrder(ids, c)
            try await c.query("""
                UPDATE deliveries SET lease_expires_at = \(until.pgValue)
                WHERE id = ANY(\(ids)::bigint[]) AND state = 'sending' AND lease_owner = \(owner)
                """, logger: logger)
        }
    }

    public func releaseLeases(owners: [String], now: Date) async throws -> Int {
        guard !owners.isEmpty else { return 0 }
        return try await write("releasing the leases of \(owners.joined(separator: ", "))") { [self] c in
            try await updated(c, """
                UPDATE deliveries SET state = 'queued', next_attempt_at = \(now.pgValue), lease_owner = NULL, lease_expires_at = NULL
                WHERE state = 'sending' AND lease_owner = ANY(\(owners)::text[]) RETURNING id
                """)
        }
    }

    public func leaseOwners() async throws -> [String] {
        try await rows("listing lease owners", """
            SELECT DISTINCT lease_owner FROM deliveries WHERE state = 'sending' AND lease_owner IS NOT NULL ORDER BY lease_owner
            """).map { try $0.decode(String.self) }
    }

    /// Newest first.
    public func deliveries(_ filter: DeliveryFilter) async throws -> [DeliveryRecord] {
        try await rows("listing deliveries", """
            SELECT \(unescaped: PostgresRows.deliveryColumns) FROM deliveries
            WHERE (\(filter.business?.rawValue)::text IS NULL OR business = \(filter.business?.rawValue))
              AND (\(filter.incident)::bigint IS NULL OR incident = \(filter.incident))
              AND (\(filter.state?.rawValue)::text IS NULL OR state = \(filter.state?.rawValue))
              AND (\(filter.channel?.rawValue)::text IS NULL OR channel = \(filter.channel?.rawValue))
            ORDER BY id DESC LIMIT \(max(0, filter.limit))
            """).map(PostgresRows.delivery)
    }

    /// As `SQLiteStore.requeue`.
    public func requeue(_ selection: RequeueSelection, now: Date, audit: AuditEntry?) async throws -> Int {
        try await write("requeueing deliveries") { [self] c in
            let count: Int
            switch selection {
            case .ids(let ids):
                count = try await updated(c, """
                    UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = \(now.pgValue),
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ANY(\(ids)::bigint[]) AND state IN ('failed', 'dead') RETURNING id
                    """)
            case .dead(let business):
                count = try await updated(c, """
                    UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = \(now.pgValue),
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE state = 'dead' AND (\(business?.rawValue)::text IS NULL OR business = \(business?.rawValue))
                    RETURNING id
                    """)
            }
            if count > 0 {
                try await append(audit, c)
                try await notify(.work, c)
            }
            return count
        }
    }

    /// Every state is present, 0 when no delivery is in it.
    public func queueDepth() async throws -> [DeliveryState: Int] {
        try await write("counting deliveries") { [self] c in try await depth(c) }
    }

    /// As `SQLiteStore.outboxStats`, on one snapshot (a REPEATABLE READ transaction).
    public func outboxStats(now: Date) async throws -> OutboxStats {
        try await write("reading the outbox figures") { [self] c in
            try await c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            let depth = try await depth(c)
            let leases = try await c.query("""
                SELECT COUNT(*) FROM deliveries WHERE state = 'sending' AND lease_expires_at >= \(now.pgValue)
                """, logger: logger).collect().first?.decode(Int.self) ?? 0
            let due = try await c.query("""
                SELECT MIN(next_attempt_at) FROM deliveries
                WHERE state IN ('queued', 'failed') AND next_attempt_at <= \(now.pgValue)
                """, logger: logger).collect().first?.decode(Double?.self) ?? nil
            return OutboxStats(depth: depth, leasesHeld: leases, oldestDueAge: due.map { max(0, now.pgValue - $0) } ?? 0)
        }
    }

    private func depth(_ c: PostgresConnection) async throws -> [DeliveryState: Int] {
        var depth = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, 0) })
        for row in try await c.query("SELECT state, COUNT(*) FROM deliveries GROUP BY state", logger: logger).collect() {
            let (state, count) = try row.decode((String, Int).self)
            if let state = DeliveryState(rawValue: state) { depth[state] = count }
        }
        return depth
    }
}
