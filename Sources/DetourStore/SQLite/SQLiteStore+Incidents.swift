import DetourCore
import Foundation
import GRDB

// MARK: Policies and incidents

extension SQLiteStore {
    public func recordPolicyVersion(_ version: PolicyVersion) async throws -> Int64 {
        try await write("recording a policy version of \(version.business)") { db in
            try Self.insertPolicyVersion(version, db)
        }
    }

    /// All in one transaction: a daemon with a thousand policies starts without a thousand commits.
    public func recordPolicyVersions(_ versions: [PolicyVersion]) async throws -> [Int64] {
        try await write("recording \(versions.count) policy versions") { db in
            try versions.map { try Self.insertPolicyVersion($0, db) }
        }
    }

    private static func insertPolicyVersion(_ version: PolicyVersion, _ db: Database) throws -> Int64 {
        let existing = try Int64.fetchOne(db, PolicyVersionRow
            .select(PolicyVersionRow.Columns.id)
            .filter(PolicyVersionRow.Columns.business == version.business.rawValue
                    && PolicyVersionRow.Columns.contentHash == version.contentHash))
        if let existing { return existing }
        var row = PolicyVersionRow(version)
        try row.insert(db)
        return db.lastInsertedRowID
    }

    /// Opens the incident at event sequence 1 and queues its deliveries (due and created at `openedAt`)
    /// with the audit entry, in one transaction. A delivery whose idempotency key is already stored is
    /// skipped. An audit entry without an incident id gets the new incident's id.
    /// Fails with `.conflict` if the business has an open incident, `.notFound` if the policy version is unknown.
    public func openIncident(_ incident: NewIncident, deliveries: some Sequence<NewDelivery> & Sendable, audit: AuditEntry?) async throws
        -> IncidentRecord {
        try await write("opening an incident for \(incident.business)") { db in
            guard try PolicyVersionRow.exists(db, key: incident.policyVersion) else {
                throw StoreError(.notFound, "cannot open an incident for \(incident.business): "
                                 + "policy version \(incident.policyVersion) is not stored")
            }
            if let open = try Self.openIncident(of: incident.business, db) {
                throw StoreError(.conflict, "\(incident.business) already has an open incident (#\(open.id ?? 0), "
                                 + "opened by \(open.openedBy))")
            }
            var row = IncidentRow(incident)
            try row.insert(db)
            let id = db.lastInsertedRowID
            try Self.queue(deliveries, of: row, id: id, at: incident.openedAt, db)
            try Self.append(audit, incident: id, db)
            return row.record
        }
    }

    /// Records a later event of an incident and queues its deliveries (due and created at the event's
    /// time) with the audit entry, in one transaction.
    ///
    /// - `reopen` sets the state back to open, clears the resolved fields, replaces the reason and the
    ///   platforms, and adds one to the event sequence. Fails with `.conflict` if it is open.
    /// - `resolve` records who resolved it, when and why, and adds one to the event sequence.
    ///   Fails with `.conflict` if it is already resolved.
    /// - `takeOver` makes the origin manual, the opener `by` and the reason the operator's; the event
    ///   sequence stays. Its deliveries (usually none) are created at the audit entry's time, else now.
    ///   Fails with `.conflict` if it is resolved.
    ///
    /// Fails with `.notFound` for an unknown incident.
    public func recordEvent(_ change: IncidentChange, deliveries: some Sequence<NewDelivery> & Sendable, audit: AuditEntry?) async throws
        -> IncidentRecord {
        try await write("recording an incident event") { db in
            let id = change.incidentID
            guard var row = try IncidentRow.fetchOne(db, key: id) else {
                throw StoreError(.notFound, "incident #\(id) does not exist")
            }
            let openOther: IncidentRecord?
            if case .reopen = change { openOther = try Self.openIncident(of: row.business, db)?.record } else { openOther = nil }
            let (changed, at) = try change.applied(to: row.record, openOther: openOther, auditAt: audit?.at)
            row.take(changed)
            try row.update(db)
            try Self.queue(deliveries, of: row, id: id, at: at, db)
            try Self.append(audit, incident: id, db)
            return row.record
        }
    }

    public func latestIncidents() async throws -> [IncidentRecord] {
        try await read("listing the latest incidents") { db in
            try IncidentRow.fetchAll(db, sql: """
                SELECT * FROM incidents WHERE id IN (SELECT MAX(id) FROM incidents GROUP BY business)
                ORDER BY business
                """).map(\.record)
        }
    }

    /// Newest first.
    public func incidents(_ filter: IncidentFilter) async throws -> [IncidentRecord] {
        try await read("listing incidents") { db in
            var request = IncidentRow.all()
            if let business = filter.business { request = request.filter(IncidentRow.Columns.business == business.rawValue) }
            if let state = filter.state { request = request.filter(IncidentRow.Columns.state == state.rawValue) }
            return try request.order(IncidentRow.Columns.id.desc).limit(max(0, filter.limit)).fetchAll(db).map(\.record)
        }
    }

    public func incident(_ id: Int64) async throws -> IncidentRecord? {
        try await read("reading incident #\(id)") { db in
            try IncidentRow.fetchOne(db, key: id)?.record
        }
    }

    /// Counts every email delivery of the incident per target as stored, whatever its state: queued,
    /// sending, sent, failed and dead. A failed or dead one counts because it was promised and may
    /// have reached the mailbox (a timeout after the data was sent), so a cap per address holds.
    public func messageCounts(incident: Int64) async throws -> [String: Int] {
        try await read("counting the emails and texts of incident #\(incident)") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT target, COUNT(*) FROM deliveries WHERE incident = ? AND channel IN (?, ?) GROUP BY target
                """, arguments: [incident, ChannelKind.email.rawValue, ChannelKind.sms.rawValue])
            var counts: [String: Int] = [:]
            for row in rows { counts[row[0]] = row[1] }
            return counts
        }
    }

    // MARK: Helpers (inside a write transaction)

    static func openIncident(of business: BusinessID, _ db: Database) throws -> IncidentRow? {
        try IncidentRow
            .filter(IncidentRow.Columns.business == business.rawValue && IncidentRow.Columns.state == IncidentState.open.rawValue)
            .fetchOne(db)
    }

    /// Queues deliveries of the incident's current event; one whose idempotency key exists is skipped.
    static func queue(_ deliveries: some Sequence<NewDelivery>, of incident: IncidentRow, id: Int64, at: Date, _ db: Database) throws {
        let insert = try db.cachedStatement(sql: DeliveryRow.queueSQL)
        for new in deliveries {
            insert.setUncheckedArguments(DeliveryRow(new, of: incident, incidentID: id, at: at).queueArguments)
            try insert.execute()
        }
    }

    static func append(_ entry: AuditEntry?, incident: Int64? = nil, _ db: Database) throws {
        guard var entry else { return }
        if entry.incident == nil { entry.incident = incident }
        var row = AuditRow(entry)
        try row.insert(db)
    }
}
