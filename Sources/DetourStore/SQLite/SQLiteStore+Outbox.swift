import DetourCore
import Foundation
import GRDB

// MARK: The outbox

extension SQLiteStore {
    /// Takes, in one IMMEDIATE transaction, the first `limit` due deliveries of the channel in
    /// (next attempt, id) order. Each state is read through the `deliveries_claim` index in that order
    /// and stops at `limit`, so a claim costs the same with 10 or 1,000,000 rows queued. Because the
    /// write lock is held from BEGIN, two claimers (threads or processes) never take the same row
    /// while its lease is live. Returns them in (next attempt, id) order.
    public func claim(channel: ChannelKind, limit: Int, owner: String, lease: Duration, now: Date) async throws
        -> [DeliveryRecord] {
        guard limit > 0 else { return [] }
        let arguments: StatementArguments = [
            "owner": owner, "until": now.addingTimeInterval(lease.timeInterval).storeValue, "channel": channel.rawValue,
            "now": now.storeValue, "limit": limit,
        ]
        return try await write("claiming \(channel) deliveries for \(owner)") { db in
            try DeliveryRow.fetchAll(db.cachedStatement(sql: Self.claimSQL), arguments: arguments)
                .map(\.record)
                .sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    private static let claimSQL = """
        UPDATE deliveries
        SET state = 'sending', lease_owner = :owner, lease_expires_at = :until, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM (
                SELECT * FROM (
                    SELECT id, next_attempt_at FROM deliveries
                    WHERE channel = :channel AND state = 'queued' AND next_attempt_at <= :now
                    ORDER BY next_attempt_at, id LIMIT :limit)
                UNION ALL
                SELECT * FROM (
                    SELECT id, next_attempt_at FROM deliveries
                    WHERE channel = :channel AND state = 'failed' AND next_attempt_at <= :now
                    ORDER BY next_attempt_at, id LIMIT :limit)
                UNION ALL
                SELECT * FROM (
                    SELECT id, next_attempt_at FROM deliveries
                    WHERE channel = :channel AND state = 'sending' AND lease_expires_at < :now
                    ORDER BY next_attempt_at, id LIMIT :limit)
                ORDER BY next_attempt_at, id LIMIT :limit))
        RETURNING *
        """

    /// `sent` keeps the reply and the time; `retry` keeps the error and when to try again; `dead` keeps
    /// the error. Each clears the lease. Only the current lease holder of a `sending` row may complete it.
    public func complete(_ id: Int64, owner: String, outcome: DeliveryOutcome, now: Date) async throws -> Bool {
        try await complete([CompletedDelivery(id: id, outcome: outcome)], owner: owner, now: now,
                           what: "completing delivery #\(id)").isEmpty
    }

    /// As the single `complete`, for each outcome in turn, in one IMMEDIATE transaction: a worker that
    /// finished 500 sends commits once. An id given twice is recorded once; the second is reported lost.
    public func complete(_ outcomes: [CompletedDelivery], owner: String, now: Date) async throws -> [Int64] {
        guard !outcomes.isEmpty else { return [] }
        return try await complete(outcomes, owner: owner, now: now,
                                  what: "completing \(outcomes.count) deliveries for \(owner)")
    }

    private func complete(_ outcomes: [CompletedDelivery], owner: String, now: Date, what: String) async throws
        -> [Int64] {
        try await write(what) { db in
            var lost: [Int64] = []
            for done in outcomes {
                let sql: String
                var arguments: StatementArguments = ["id": done.id, "owner": owner]
                switch done.outcome {
                case .sent(let reply):
                    sql = Self.completeSentSQL
                    arguments += ["text": reply, "at": now.storeValue]
                case .retry(let error, let retryAt):
                    sql = Self.completeRetrySQL
                    arguments += ["text": error, "at": retryAt.storeValue]
                case .dead(let error):
                    sql = Self.completeDeadSQL
                    arguments += ["text": error]
                }
                try db.cachedStatement(sql: sql).execute(arguments: arguments)
                if db.changesCount == 0 { lost.append(done.id) }
            }
            return lost
        }
    }

    private static let completeSentSQL = completeSQL("state = 'sent', reply = :text, sent_at = :at")
    private static let completeRetrySQL = completeSQL("state = 'failed', last_error = :text, next_attempt_at = :at")
    private static let completeDeadSQL = completeSQL("state = 'dead', last_error = :text")

    private static func completeSQL(_ assignments: String) -> String {
        """
        UPDATE deliveries SET \(assignments), lease_owner = NULL, lease_expires_at = NULL
        WHERE id = :id AND state = 'sending' AND lease_owner = :owner
        """
    }

    /// Only rows still `sending` under `owner` are extended.
    public func renewLeases(_ ids: [Int64], owner: String, until: Date) async throws {
        guard !ids.isEmpty else { return }
        try await write("renewing the leases of \(owner)") { db in
            for chunk in ids.chunked(500) {
                try DeliveryRow
                    .filter(chunk.contains(DeliveryRow.Columns.id))
                    .filter(DeliveryRow.Columns.state == DeliveryState.sending.rawValue
                            && DeliveryRow.Columns.leaseOwner == owner)
                    .updateAll(db, DeliveryRow.Columns.leaseExpiresAt.set(to: until.storeValue))
            }
        }
    }

    public func releaseLeases(owners: [String], now: Date) async throws -> Int {
        guard !owners.isEmpty else { return 0 }
        return try await write("releasing the leases of \(owners.joined(separator: ", "))") { db in
            try DeliveryRow
                .filter(DeliveryRow.Columns.state == DeliveryState.sending.rawValue && owners.contains(DeliveryRow.Columns.leaseOwner))
                .updateAll(db, [
                    DeliveryRow.Columns.state.set(to: DeliveryState.queued.rawValue),
                    DeliveryRow.Columns.nextAttemptAt.set(to: now.storeValue),
                    DeliveryRow.Columns.leaseOwner.set(to: nil),
                    DeliveryRow.Columns.leaseExpiresAt.set(to: nil),
                ])
        }
    }

    public func leaseOwners() async throws -> [String] {
        try await read("listing lease owners") { db in
            try String.fetchAll(db, sql: """
                SELECT DISTINCT lease_owner FROM deliveries
                WHERE state = 'sending' AND lease_owner IS NOT NULL ORDER BY lease_owner
                """)
        }
    }

    /// Newest first.
    public func deliveries(_ filter: DeliveryFilter) async throws -> [DeliveryRecord] {
        try await read("listing deliveries") { db in
            var request = DeliveryRow.all()
            if let business = filter.business { request = request.filter(DeliveryRow.Columns.business == business.rawValue) }
            if let incident = filter.incident { request = request.filter(DeliveryRow.Columns.incident == incident) }
            if let state = filter.state { request = request.filter(DeliveryRow.Columns.state == state.rawValue) }
            if let channel = filter.channel { request = request.filter(DeliveryRow.Columns.channel == channel.rawValue) }
            return try request.order(DeliveryRow.Columns.id.desc).limit(max(0, filter.limit)).fetchAll(db).map(\.record)
        }
    }

    /// Requeues failed and dead deliveries (due `now`, attempts 0, last error kept); ids of deliveries
    /// that are queued, sending or sent are skipped. The audit entry is written, in the same
    /// transaction, when at least one delivery was requeued.
    public func requeue(_ selection: RequeueSelection, now: Date, audit: AuditEntry?) async throws -> Int {
        try await write("requeueing deliveries") { db in
            let requeue: [ColumnAssignment] = [
                DeliveryRow.Columns.state.set(to: DeliveryState.queued.rawValue),
                DeliveryRow.Columns.attempts.set(to: 0),
                DeliveryRow.Columns.nextAttemptAt.set(to: now.storeValue),
                DeliveryRow.Columns.leaseOwner.set(to: nil),
                DeliveryRow.Columns.leaseExpiresAt.set(to: nil),
            ]
            var count = 0
            switch selection {
            case .ids(let ids):
                let states = [DeliveryState.failed.rawValue, DeliveryState.dead.rawValue]
                for chunk in ids.chunked(500) {
                    count += try DeliveryRow
                        .filter(chunk.contains(DeliveryRow.Columns.id) && states.contains(DeliveryRow.Columns.state))
                        .updateAll(db, requeue)
                }
            case .dead(let business):
                var request = DeliveryRow.filter(DeliveryRow.Columns.state == DeliveryState.dead.rawValue)
                if let business { request = request.filter(DeliveryRow.Columns.business == business.rawValue) }
                count = try request.updateAll(db, requeue)
            }
            if count > 0 { try Self.append(audit, db) }
            return count
        }
    }

    /// Every state is present, 0 when no delivery is in it.
    public func queueDepth() async throws -> [DeliveryState: Int] {
        try await read("counting deliveries") { db in try Self.depth(db) }
    }

    /// The depth, the live leases (`sending` rows whose lease expires at or after `now`: claims take a
    /// lease only once it is past) and the oldest due time, on one snapshot. Queued and failed rows hold
    /// no lease, so "due and not leased" is their next attempt time having come. The oldest due time is
    /// read per channel and state through the `deliveries_claim` index, so it does not scan the queue.
    public func outboxStats(now: Date) async throws -> OutboxStats {
        try await read("reading the outbox figures") { db in
            let depth = try Self.depth(db)
            let leases = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM deliveries WHERE state = 'sending' AND lease_expires_at >= ?
                """, arguments: [now.storeValue]) ?? 0
            var oldestDue: Double?
            for channel in ChannelKind.allCases {
                for state in [DeliveryState.queued, .failed] {
                    let due = try Double.fetchOne(db.cachedStatement(sql: """
                        SELECT MIN(next_attempt_at) FROM deliveries
                        WHERE channel = ? AND state = ? AND next_attempt_at <= ?
                        """), arguments: [channel.rawValue, state.rawValue, now.storeValue])
                    if let due { oldestDue = min(oldestDue ?? due, due) }
                }
            }
            let age = oldestDue.map { max(0, now.storeValue - $0) } ?? 0
            return OutboxStats(depth: depth, leasesHeld: leases, oldestDueAge: age)
        }
    }

    private static func depth(_ db: Database) throws -> [DeliveryState: Int] {
        var depth = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, 0) })
        for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM deliveries GROUP BY state") {
            if let state = DeliveryState(rawValue: row[0]) { depth[state] = row[1] }
        }
        return depth
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements (SQLite limits the arguments of one statement).
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
