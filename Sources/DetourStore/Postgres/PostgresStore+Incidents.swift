import DetourCore
import Foundation
import PostgresNIO

// MARK: Policies and incidents

extension PostgresStore {
    public func recordPolicyVersion(_ version: PolicyVersion) async throws -> Int64 {
        try await write("recording a policy version of \(version.business)") { [self] c in
            try await insertPolicyVersion(version, c)
        }
    }

    /// All in one transaction.
    public func recordPolicyVersions(_ versions: [PolicyVersion]) async throws -> [Int64] {
        try await write("recording \(versions.count) policy versions") { [self] c in
            var ids: [Int64] = []
            for version in versions { ids.append(try await insertPolicyVersion(version, c)) }
            return ids
        }
    }

    /// The version's id, added if new. Nodes adding the same version at once (they start together,
    /// or reload together) get the same id: the no-op update waits for the other's insert and
    /// returns its row, where DO NOTHING would return no row at all.
    private func insertPolicyVersion(_ v: PolicyVersion, _ c: PostgresConnection) async throws -> Int64 {
        let rows = try await c.query("""
            INSERT INTO policy_versions (business, file, content_hash, loaded_at)
            VALUES (\(v.business.rawValue), \(v.file), \(v.contentHash), \(v.loadedAt.pgValue))
            ON CONFLICT (business, content_hash) DO UPDATE SET business = excluded.business
            RETURNING id
            """, logger: logger).collect()
        guard let row = rows.first else { throw StoreError(.unavailable, "recording a policy version of \(v.business): no id returned") }
        return try row.decode(Int64.self)
    }

    /// As `SQLiteStore.openIncident`: the incident at event sequence 1, its deliveries and the audit
    /// entry in one transaction. Two nodes opening one business at once: the unique index
    /// `incidents_one_open` lets one win; the other gets `.conflict`.
    public func openIncident(_ incident: NewIncident, deliveries: some Sequence<NewDelivery> & Sendable, audit: AuditEntry?) async throws
        -> IncidentRecord {
        try await write("opening an incident for \(incident.business)", deadline: .seconds(300)) { [self] c in
            try await checkFence(c)
            let known = try await c.query("SELECT 1 FROM policy_versions WHERE id = \(incident.policyVersion)", logger: logger).collect()
            guard !known.isEmpty else {
                throw StoreError(.notFound, "cannot open an incident for \(incident.business): "
                                 + "policy version \(incident.policyVersion) is not stored")
            }
            if let open = try await openIncident(of: incident.business, c) {
                throw StoreError(.conflict, "\(incident.business) already has an open incident (#\(open.id), opened by \(open.openedBy))")
            }
            let rows = try await c.query("""
                INSERT INTO incidents (business, origin, opened_by, reason, platforms, policy_version, state, opened_at,
                                       event_sequence)
                VALUES (\(incident.business.rawValue), \(incident.origin.rawValue), \(incident.openedBy), \(incident.reason),
                        \(PostgresRows.platformText(incident.platforms)), \(incident.policyVersion), 'open',
                        \(incident.openedAt.pgValue), 1)
                RETURNING \(unescaped: PostgresRows.incidentColumns)
                """, logger: logger).collect()
            let record = try PostgresRows.incident(rows[0])
            try await queue(deliveries, of: record, at: incident.openedAt, c)
            try await append(audit, incident: record.id, c)
            try await notify(.incident, c)
            return record
        }
    }

    /// As `SQLiteStore.recordEvent`: reopen, resolve or take over, with the event's deliveries and
    /// audit entry, in one transaction; the incident row is locked first so two nodes take turns.
    public func recordEvent(_ change: IncidentChange, deliveries: some Sequence<NewDelivery> & Sendable, audit: AuditEntry?) async throws
        -> IncidentRecord {
        try await write("recording an incident event", deadline: .seconds(300)) { [self] c in
            try await checkFence(c)
            let id = change.incidentID
            let found = try await c.query("SELECT \(unescaped: PostgresRows.incidentColumns) FROM incidents WHERE id = \(id) FOR UPDATE",
                                          logger: logger).collect()
            guard let first = found.first else { throw StoreError(.notFound, "incident #\(id) does not exist") }
            let current = try PostgresRows.incident(first)
            let openOther: IncidentRecord?
            if case .reopen = change { openOther = try await openIncident(of: current.business, c) } else { openOther = nil }
            let (row, at) = try change.applied(to: current, openOther: openOther, auditAt: audit?.at)
            try await c.query("""
                UPDATE incidents SET origin = \(row.origin.rawValue), opened_by = \(row.openedBy), reason = \(row.reason),
                    platforms = \(PostgresRows.platformText(row.platforms)), state = \(row.state.rawValue),
                    resolved_at = \(row.resolvedAt?.pgValue), resolved_by = \(row.resolvedBy),
                    resolve_reason = \(row.resolveReason), event_sequence = \(row.eventSequence)
                WHERE id = \(id)
                """, logger: logger)
            try await queue(deliveries, of: row, at: at, c)
            try await append(audit, incident: id, c)
            try await notify(.incident, c)
            return row
        }
    }

    public func latestIncidents() async throws -> [IncidentRecord] {
        try await rows("listing the latest incidents", """
            SELECT \(unescaped: PostgresRows.incidentColumns) FROM incidents
            WHERE id IN (SELECT MAX(id) FROM incidents GROUP BY business) ORDER BY business
            """).map(PostgresRows.incident)
    }

    /// Newest first.
    public func incidents(_ filter: IncidentFilter) async throws -> [IncidentRecord] {
        try await rows("listing incidents", """
            SELECT \(unescaped: PostgresRows.incidentColumns) FROM incidents
            WHERE (\(filter.business?.rawValue)::text IS NULL OR business = \(filter.business?.rawValue))
              AND (\(filter.state?.rawValue)::text IS NULL OR state = \(filter.state?.rawValue))
            ORDER BY id DESC LIMIT \(max(0, filter.limit))
            """).map(PostgresRows.incident)
    }

    public func incident(_ id: Int64) async throws -> IncidentRecord? {
        try await rows("reading incident #\(id)", "SELECT \(unescaped: PostgresRows.incidentColumns) FROM incidents WHERE id = \(id)")
            .first.map(PostgresRows.incident)
    }

    /// As `SQLiteStore.emailCounts`: every email delivery of the incident per target, whatever its state.
    public func messageCounts(incident: Int64) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await rows("counting the emails and texts of incident #\(incident)", """
            SELECT target, COUNT(*) FROM deliveries WHERE incident = \(incident) AND channel IN (\(ChannelKind.email.rawValue), \(ChannelKind.sms.rawValue))
            GROUP BY target
            """) {
            let (target, count) = try row.decode((String, Int).self)
            counts[target] = count
        }
        return counts
    }

    // MARK: Helpers (inside a transaction)

    func openIncident(of business: BusinessID, _ c: PostgresConnection) async throws -> IncidentRecord? {
        try await c.query("""
            SELECT \(unescaped: PostgresRows.incidentColumns) FROM incidents WHERE business = \(business.rawValue) AND state = 'open'
            """, logger: logger).collect().first.map(PostgresRows.incident)
    }

    /// Rows per INSERT when queueing: each statement carries its rows as arrays.
    static let queueChunk = 5_000

    /// Queues deliveries of the incident's current event, due and created at `at`; one whose
    /// idempotency key exists is skipped. Rows go in as arrays, thousands per statement, so 20,000
    /// recipients cost a few round trips, not 20,000.
    func queue(_ deliveries: some Sequence<NewDelivery>, of incident: IncidentRecord, at: Date, _ c: PostgresConnection) async throws {
        var events: [String] = [], channels: [String] = [], targets: [String] = [], names: [String] = [], hasName: [Bool] = []
        var locales: [String] = [], hasLocale: [Bool] = [], keys: [String] = []
        func flush() async throws {
            guard !keys.isEmpty else { return }
            try await c.query("""
                INSERT INTO deliveries (incident, business, event, event_sequence, channel, target, recipient_name, locale,
                                        idempotency_key, state, attempts, created_at, next_attempt_at)
                SELECT \(incident.id), \(incident.business.rawValue), u.event, \(incident.eventSequence), u.channel, u.target, CASE WHEN u.has_name THEN u.name END, CASE WHEN u.has_locale THEN u.locale END,
                       u.key, 'queued', 0, \(at.pgValue), \(at.pgValue)
                FROM unnest(\(events)::text[], \(channels)::text[], \(targets)::text[], \(names)::text[], \(hasName)::bool[],
                            \(locales)::text[], \(hasLocale)::bool[], \(keys)::text[])
                     WITH ORDINALITY AS u(event, channel, target, name, has_name, locale, has_locale, key, n)
                ORDER BY u.n
                ON CONFLICT (incident, idempotency_key) DO NOTHING
                """, logger: logger)
            events.removeAll(keepingCapacity: true); channels.removeAll(keepingCapacity: true); targets.removeAll(keepingCapacity: true)
            names.removeAll(keepingCapacity: true); hasName.removeAll(keepingCapacity: true)
            locales.removeAll(keepingCapacity: true); hasLocale.removeAll(keepingCapacity: true)
            keys.removeAll(keepingCapacity: true)
        }
        for d in deliveries {
            events.append(d.event.rawValue); channels.append(d.channel.rawValue); targets.append(d.target)
            names.append(d.recipientName ?? ""); hasName.append(d.recipientName != nil)
            locales.append(d.locale ?? ""); hasLocale.append(d.locale != nil)
            keys.append(d.idempotencyKey)
            if keys.count >= Self.queueChunk { try await flush() }
        }
        try await flush()
    }

    func append(_ entry: AuditEntry?, incident: Int64? = nil, _ c: PostgresConnection) async throws {
        guard var entry else { return }
        if entry.incident == nil { entry.incident = incident }
        try await c.query("""
            INSERT INTO audit (at, actor, action, business, incident, detail)
            VALUES (\(entry.at.pgValue), \(entry.actor), \(entry.action), \(entry.business?.rawValue), \(entry.incident), \(entry.detail))
            """, logger: logger)
    }
}
