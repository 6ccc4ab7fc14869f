import DetourCore
import Foundation
import GRDB

// MARK: Overrides, unsubscribes, audit, status transitions

extension SQLiteStore {
    /// By business, then kind.
    public func overrides() async throws -> [OverrideRecord] {
        try await read("listing overrides") { db in
            try OverrideRow.order(OverrideRow.Columns.business, OverrideRow.Columns.kind).fetchAll(db).map(\.record)
        }
    }

    public func setOverride(_ override: OverrideRecord, audit: AuditEntry) async throws {
        try await write("setting the \(override.kind.rawValue) of \(override.business)") { db in
            var row = OverrideRow(override)
            try row.insert(db, onConflict: .replace)
            try Self.append(audit, db)
        }
    }

    /// The audit entry is written, in the same transaction, only when an override was removed.
    public func clearOverride(business: BusinessID, kind: OverrideKind, audit: AuditEntry) async throws -> Bool {
        try await write("clearing the \(kind.rawValue) of \(business)") { db in
            let removed = try OverrideRow
                .filter(OverrideRow.Columns.business == business.rawValue && OverrideRow.Columns.kind == kind.rawValue)
                .deleteAll(db) > 0
            if removed { try Self.append(audit, db) }
            return removed
        }
    }

    /// Stores the address lowercased; unsubscribing twice keeps the first time.
    public func unsubscribe(business: BusinessID, email: String, at: Date) async throws {
        try await write("unsubscribing an address from \(business)") { db in
            var row = UnsubscribeRow(business: business, email: email, at: at)
            try row.insert(db, onConflict: .ignore)
        }
    }

    /// Lowercased addresses.
    public func unsubscribed(business: BusinessID) async throws -> Set<String> {
        try await read("listing the unsubscribes of \(business)") { db in
            Set(try String.fetchAll(db, UnsubscribeRow
                .select(UnsubscribeRow.Columns.email)
                .filter(UnsubscribeRow.Columns.business == business.rawValue)))
        }
    }

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await write("appending to the audit log") { db in
            try Self.append(entry, db)
        }
    }

    /// Newest first.
    public func audit(business: BusinessID?, limit: Int) async throws -> [AuditEntry] {
        try await read("reading the audit log") { db in
            var request = AuditRow.all()
            if let business { request = request.filter(AuditRow.Columns.business == business.rawValue) }
            return try request.order(AuditRow.Columns.id.desc).limit(max(0, limit)).fetchAll(db).map(\.entry)
        }
    }

    public func record(_ transition: StatusTransition) async throws {
        try await write("recording a status transition of \(transition.platform)") { db in
            var row = StatusTransitionRow(transition)
            try row.insert(db)
        }
    }

    /// Newest first.
    public func recent(platform: PlatformID?, limit: Int) async throws -> [StatusTransition] {
        try await read("reading status transitions") { db in
            var request = StatusTransitionRow.all()
            if let platform { request = request.filter(StatusTransitionRow.Columns.platform == platform.rawValue) }
            return try request.order(StatusTransitionRow.Columns.id.desc).limit(max(0, limit)).fetchAll(db).map(\.transition)
        }
    }
}
