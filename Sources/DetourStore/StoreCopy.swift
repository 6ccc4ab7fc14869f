import DetourCore
import Foundation
import GRDB
import PostgresNIO

/// `detour store copy`: moves a one-machine install (its SQLite state file) to a PostgreSQL
/// database, whole: incidents, deliveries (with their states, leases and replies), overrides,
/// unsubscribes, the audit log, policy versions and status transitions, with their ids — and the
/// install id and the unsubscribe key, so Message-IDs stay unique and links already sent keep
/// working. One transaction: either everything is copied or nothing. A target that already holds
/// anything is refused.
public enum StoreCopy {
    /// The tables in the order they are copied (each after those it refers to).
    static let tables = ["policy_versions", "status_transitions", "incidents", "deliveries", "overrides", "unsubscribes", "audit"]
    /// Rows per INSERT: each statement carries its rows as one JSON array.
    static let chunk = 2_000

    public struct Report: Sendable, Codable, Hashable {
        /// Rows copied, by table.
        public var rows: [String: Int]
        public var installID: String
    }

    /// Copies `source` into `target`. `unsubscribeKey`: the key file's bytes next to the state file,
    /// if there is one. `progress` is told each table as it is done.
    public static func copy(from source: SQLiteStore, to target: PostgresStore, unsubscribeKey: [UInt8]?,
                            progress: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws -> Report {
        let counts = try await target.write("copying \(source.path) into the database", deadline: .seconds(3600)) { c in
            var counts: [String: Int] = [:]
            for table in tables + ["shared_keys"] {
                let rows = try await c.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) LIMIT 1"), logger: target.logger).collect()
                if !rows.isEmpty {
                    throw StoreError(.conflict, "the database \(target.location) already holds Detour data (table \(table) is not empty); "
                                     + "copy only into a new, empty database")
                }
            }
            // The install id names every Message-ID and webhook-id: the copy keeps the file's.
            try await c.query("ALTER TABLE install DISABLE TRIGGER install_refuses_change", logger: target.logger)
            try await c.query("UPDATE install SET install_id = \(source.installID) WHERE id = 1", logger: target.logger)
            try await c.query("ALTER TABLE install ENABLE TRIGGER install_refuses_change", logger: target.logger)
            if let unsubscribeKey {
                try await c.query("INSERT INTO shared_keys (name, key) VALUES ('unsubscribe', \(Data(unsubscribeKey)))",
                                  logger: target.logger)
            }
            for table in tables {
                var copied = 0
                var after: Int64 = .min
                while true {
                    let from = after
                    let (json, last, n) = try await source.pool.read { db in try rowsAsJSON(db, table: table, after: from, limit: chunk) }
                    guard n > 0 else { break }
                    let insert: PostgresQuery = "INSERT INTO \(unescaped: table) SELECT * FROM json_populate_recordset(NULL::\(unescaped: table), \(json)::json)"
                    try await c.query(insert, logger: target.logger)
                    copied += n
                    after = last
                }
                // The next id after the copied ones.
                if ["policy_versions", "status_transitions", "incidents", "deliveries", "audit"].contains(table) {
                    try await c.query(PostgresQuery(unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE((SELECT MAX(id) FROM \(table)), 0) + 1, false)
                        """), logger: target.logger)
                }
                counts[table] = copied
                progress(table, copied)
            }
            return counts
        }
        return Report(rows: counts, installID: source.installID)
    }

    /// Tables kept WITHOUT ROWID in the state file: read by their primary key, a page at a time.
    static let withoutRowID: [String: String] = ["overrides": "business, kind", "unsubscribes": "business, email"]

    /// Up to `limit` rows of `table` after `after` (a rowid, or for a table without rowids the
    /// number of rows already read), as a JSON array of objects keyed by column; where the next page
    /// starts; the count.
    private static func rowsAsJSON(_ db: Database, table: String, after: Int64, limit: Int) throws -> (String, Int64, Int) {
        if let key = withoutRowID[table] {
            let offset = after == .min ? 0 : after
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(key) LIMIT ? OFFSET ?", arguments: [limit, offset])
            return (try jsonArray(rows), offset + Int64(rows.count), rows.count)
        }
        let rows = try Row.fetchAll(db, sql: "SELECT rowid AS detour_rowid, * FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                    arguments: [after, limit])
        let last: Int64 = rows.last?["detour_rowid"] ?? after
        return (try jsonArray(rows), last, rows.count)
    }

    private static func jsonArray(_ rows: [Row]) throws -> String {
        var objects: [[String: Any]] = []
        objects.reserveCapacity(rows.count)
        for row in rows {
            var object: [String: Any] = [:]
            for (column, value) in row where column != "detour_rowid" {
                switch value.storage {
                case .null: object[column] = NSNull()
                case .int64(let v): object[column] = v
                case .double(let v): object[column] = v
                case .string(let v): object[column] = v
                case .blob(let v): object[column] = v.base64EncodedString()
                }
            }
            objects.append(object)
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: objects), as: UTF8.self)
    }
}
