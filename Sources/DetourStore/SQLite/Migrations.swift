import DetourCore
import GRDB

/// The schema of the state file, every migration in one place. A migration, once released, never changes:
/// a new need is a new migration appended below.
enum Migrations {
    /// The first migration's id: a file whose `grdb_migrations` has it was made by Detour.
    static let first = "v1"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(first) { db in
            try createPolicyVersions(db)
            try createStatusTransitions(db)
            try createIncidents(db)
            try createDeliveries(db)
            try createOverridesAndUnsubscribes(db)
            try createAudit(db)
        }
        migrator.registerMigration("v2-install") { db in
            try createInstall(db)
        }
        return migrator
    }

    /// One row: the random id of this state file, made once and never changed, so that ids built from
    /// incident and delivery numbers (Message-IDs, webhook ids) differ between two state files.
    private static func createInstall(_ db: Database) throws {
        try db.create(table: "install") { t in
            t.column("id", .integer).primaryKey().check { $0 == 1 }
            t.column("install_id", .text).notNull().check { length($0) == 32 }
        }
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        try db.execute(sql: "INSERT INTO install (id, install_id) VALUES (1, ?)", arguments: [bytes.lowercaseHex])
        for verb in ["UPDATE", "DELETE"] {
            try db.execute(sql: """
                CREATE TRIGGER install_refuses_\(verb.lowercased()) BEFORE \(verb) ON install
                BEGIN SELECT RAISE(ABORT, 'the install id never changes'); END
                """)
        }
    }

    private static func createPolicyVersions(_ db: Database) throws {
        try db.create(table: "policy_versions") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("business", .text).notNull()
            t.column("file", .text).notNull()
            t.column("content_hash", .text).notNull()
            t.column("loaded_at", .double).notNull()
            t.uniqueKey(["business", "content_hash"])
        }
    }

    private static func createStatusTransitions(_ db: Database) throws {
        let states = ["operational", "degraded", "down", "unknown"]
        try db.create(table: "status_transitions") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("platform", .text).notNull()
            t.column("from_state", .text).notNull().check { states.contains($0) }
            t.column("to_state", .text).notNull().check { states.contains($0) }
            t.column("reason", .text).notNull()
            t.column("at", .double).notNull()
        }
        try db.create(index: "status_transitions_platform", on: "status_transitions", columns: ["platform", "id"])
    }

    private static func createIncidents(_ db: Database) throws {
        try db.create(table: "incidents") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("business", .text).notNull()
            t.column("origin", .text).notNull().check { ["probes", "manual"].contains($0) }
            t.column("opened_by", .text).notNull()
            t.column("reason", .text).notNull()
            t.column("platforms", .jsonText).notNull()
            t.column("policy_version", .integer).notNull().references("policy_versions", onDelete: .restrict)
            t.column("state", .text).notNull().check { ["open", "resolved"].contains($0) }
            t.column("opened_at", .double).notNull()
            t.column("resolved_at", .double)
            t.column("resolved_by", .text)
            t.column("resolve_reason", .text)
            t.column("event_sequence", .integer).notNull().check { $0 >= 1 }
        }
        // A business has at most one open incident.
        try db.create(index: "incidents_one_open", on: "incidents", columns: ["business"], options: .unique,
                      condition: Column("state") == "open")
        try db.create(index: "incidents_business", on: "incidents", columns: ["business", "id"])
    }

    private static func createDeliveries(_ db: Database) throws {
        try db.create(table: "deliveries") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("incident", .integer).notNull().references("incidents", onDelete: .restrict)
            t.column("business", .text).notNull()
            t.column("event", .text).notNull().check { ["opened", "resolved"].contains($0) }
            t.column("event_sequence", .integer).notNull()
            t.column("channel", .text).notNull()
            t.column("target", .text).notNull()
            t.column("recipient_name", .text)
            t.column("locale", .text)
            // Unique within its incident: `<event sequence>/<channel>/<target>` (see NewDelivery).
            t.column("idempotency_key", .text).notNull()
            t.column("state", .text).notNull()
                .check { ["queued", "sending", "sent", "failed", "dead"].contains($0) }
            t.column("attempts", .integer).notNull().defaults(to: 0)
            t.column("created_at", .double).notNull()
            t.column("next_attempt_at", .double).notNull()
            t.column("lease_owner", .text)
            t.column("lease_expires_at", .double)
            t.column("last_error", .text)
            t.column("reply", .text)
            t.column("sent_at", .double)
            t.check(sql: "state <> 'sending' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)")
            t.uniqueKey(["incident", "idempotency_key"])
        }
        // Claiming: due rows of one channel and state, oldest first (the rowid breaks ties).
        try db.create(index: "deliveries_claim", on: "deliveries", columns: ["channel", "state", "next_attempt_at"])
        // Per incident listings and the email count per target.
        try db.create(index: "deliveries_incident", on: "deliveries", columns: ["incident", "channel", "target"])
        // Leases held (few rows), and dead letters (few rows): partial indexes cost nothing for queued rows.
        try db.create(index: "deliveries_leases", on: "deliveries", columns: ["lease_owner"],
                      condition: Column("state") == "sending")
        try db.create(index: "deliveries_dead", on: "deliveries", columns: ["business"],
                      condition: Column("state") == "dead")
    }

    private static func createOverridesAndUnsubscribes(_ db: Database) throws {
        try db.create(table: "overrides", options: .withoutRowID) { t in
            t.column("business", .text).notNull()
            t.column("kind", .text).notNull().check { ["failover", "hold"].contains($0) }
            t.column("platforms", .jsonText).notNull()
            t.column("reason", .text).notNull()
            t.column("set_by", .text).notNull()
            t.column("set_at", .double).notNull()
            t.column("expires_at", .double)
            t.primaryKey(["business", "kind"])
        }
        try db.create(table: "unsubscribes", options: .withoutRowID) { t in
            t.column("business", .text).notNull()
            t.column("email", .text).notNull().check(sql: "email = lower(email)")
            t.column("at", .double).notNull()
            t.primaryKey(["business", "email"])
        }
    }

    private static func createAudit(_ db: Database) throws {
        try db.create(table: "audit") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("at", .double).notNull()
            t.column("actor", .text).notNull()
            t.column("action", .text).notNull()
            t.column("business", .text)
            // Not a foreign key on purpose: the log must take any entry, even about a row that failed to be written.
            t.column("incident", .integer)
            t.column("detail", .text).notNull()
        }
        try db.create(index: "audit_business", on: "audit", columns: ["business", "id"])
        for verb in ["UPDATE", "DELETE"] {
            try db.execute(sql: """
                CREATE TRIGGER audit_refuses_\(verb.lowercased()) BEFORE \(verb) ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                """)
        }
    }
}
