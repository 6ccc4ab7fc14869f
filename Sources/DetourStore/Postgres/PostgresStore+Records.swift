import DetourCore
import Foundation
import PostgresNIO

// MARK: Overrides, unsubscribes, audit, status transitions

extension PostgresStore {
    /// The key named `name`, the same for every node: made at random (`length` bytes) by the first
    /// node that asks, read by the others. The unsubscribe links' signing key lives here, so a link
    /// made on one node verifies on every other.
    public func sharedKey(_ name: String, length: Int) async throws -> [UInt8] {
        var random = SystemRandomNumberGenerator()
        let fresh = Data((0..<length).map { _ in UInt8.random(in: .min ... .max, using: &random) })
        return try await write("reading the \(name) key") { [self] c in
            try await c.query("INSERT INTO shared_keys (name, key) VALUES (\(name), \(fresh)) ON CONFLICT (name) DO NOTHING",
                              logger: logger)
            let rows = try await c.query("SELECT key FROM shared_keys WHERE name = \(name)", logger: logger).collect()
            return [UInt8](try rows[0].decode(Data.self))
        }
    }

    /// By business, then kind.
    public func overrides() async throws -> [OverrideRecord] {
        try await rows("listing overrides", "SELECT \(unescaped: PostgresRows.overrideColumns) FROM overrides ORDER BY business, kind")
            .map(PostgresRows.override)
    }

    public func setOverride(_ o: OverrideRecord, audit: AuditEntry) async throws {
        try await write("setting the \(o.kind.rawValue) of \(o.business)") { [self] c in
            try await c.query("""
                INSERT INTO overrides (business, kind, platforms, reason, set_by, set_at, expires_at)
                VALUES (\(o.business.rawValue), \(o.kind.rawValue), \(PostgresRows.platformText(o.platforms)), \(o.reason),
                        \(o.setBy), \(o.setAt.pgValue), \(o.expiresAt?.pgValue))
                ON CONFLICT (business, kind) DO UPDATE SET platforms = excluded.platforms, reason = excluded.reason,
                    set_by = excluded.set_by, set_at = excluded.set_at, expires_at = excluded.expires_at
                """, logger: logger)
            try await append(audit, c)
        }
    }

    /// The audit entry is written, in the same transaction, only when an override was removed.
    public func clearOverride(business: BusinessID, kind: OverrideKind, audit: AuditEntry) async throws -> Bool {
        try await write("clearing the \(kind.rawValue) of \(business)") { [self] c in
            let removed = !(try await c.query("""
                DELETE FROM overrides WHERE business = \(business.rawValue) AND kind = \(kind.rawValue) RETURNING business
                """, logger: logger).collect().isEmpty)
            if removed { try await append(audit, c) }
            return removed
        }
    }

    /// Stores the address lowercased; unsubscribing twice keeps the first time.
    public func unsubscribe(business: BusinessID, email: String, at: Date) async throws {
        try await write("unsubscribing an address from \(business)") { [self] c in
            try await c.query("""
                INSERT INTO unsubscribes (business, email, at) VALUES (\(business.rawValue), \(email.lowercased()), \(at.pgValue))
                ON CONFLICT (business, email) DO NOTHING
                """, logger: logger)
        }
    }

    /// Lowercased addresses.
    public func unsubscribed(business: BusinessID) async throws -> Set<String> {
        Set(try await rows("listing the unsubscribes of \(business)",
                           "SELECT email FROM unsubscribes WHERE business = \(business.rawValue)").map { try $0.decode(String.self) })
    }

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await write("appending to the audit log") { [self] c in try await append(entry, c) }
    }

    /// Newest first.
    public func audit(business: BusinessID?, limit: Int) async throws -> [AuditEntry] {
        try await rows("reading the audit log", """
            SELECT \(unescaped: PostgresRows.auditColumns) FROM audit
            WHERE (\(business?.rawValue)::text IS NULL OR business = \(business?.rawValue))
            ORDER BY id DESC LIMIT \(max(0, limit))
            """).map(PostgresRows.audit)
    }

    public func record(_ t: StatusTransition) async throws {
        try await write("recording a status transition of \(t.platform)") { [self] c in
            try await c.query("""
                INSERT INTO status_transitions (platform, from_state, to_state, reason, at)
                VALUES (\(t.platform.rawValue), \(t.from.rawValue), \(t.to.rawValue), \(t.reason), \(t.at.pgValue))
                """, logger: logger)
        }
    }

    /// Newest first.
    public func recent(platform: PlatformID?, limit: Int) async throws -> [StatusTransition] {
        try await rows("reading status transitions", """
            SELECT \(unescaped: PostgresRows.transitionColumns) FROM status_transitions
            WHERE (\(platform?.rawValue)::text IS NULL OR platform = \(platform?.rawValue))
            ORDER BY id DESC LIMIT \(max(0, limit))
            """).map(PostgresRows.transition)
    }
}
