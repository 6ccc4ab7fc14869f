import DetourCore
import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL schema, every migration in one place, as `Migrations` is for SQLite. A
/// migration, once released, never changes: a new need is a new step appended to `steps`.
///
/// Migrations run in one transaction under a transaction-scoped advisory lock, so nodes starting
/// together take turns: the first creates, the others find it done. The tables and their rules are
/// the SQLite file's, in PostgreSQL's words: one open incident per business is a unique partial
/// index; the audit log and the install id refuse UPDATE and DELETE in a trigger.
enum PostgresSchema {
    /// The advisory lock key all Detour migrations take ("detour" in ASCII).
    static let lockKey: Int64 = 0x6465_746F_7572

    /// Each step's SQL, applied in order; the count applied is kept in `detour_schema`. Statements
    /// in a step end with a semicolon at the end of a line.
    static let steps: [String] = [v1, v2]

    /// Creates or migrates the schema and returns the install id. A database with tables but no
    /// `detour_schema` is someone else's: refused, never migrated into.
    static func migrate(_ client: PostgresClient, location: PostgresLocation, logger: Logger) async throws -> String {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
                let applied = try await appliedSteps(connection, location: location, logger: logger)
                if applied > steps.count {
                    throw StoreError(.unavailable, "the database \(location) was written by a newer version of Detour "
                                     + "(schema step \(applied), this one knows \(steps.count)); run that version")
                }
                // One statement per query: the extended protocol takes no more.
                for step in steps[applied...] {
                    for statement in step.components(separatedBy: ";\n") {
                        let sql = statement.trimmingCharacters(in: .whitespacesAndNewlines)
                        if !sql.isEmpty { try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                    }
                }
                if applied < steps.count {
                    try await connection.query("UPDATE detour_schema SET steps = \(steps.count)", logger: logger)
                }
                if try await connection.query("SELECT install_id FROM install", logger: logger).collect().isEmpty {
                    var random = SystemRandomNumberGenerator()
                    let id = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &random) }.lowercaseHex
                    try await connection.query("INSERT INTO install (id, install_id) VALUES (1, \(id))", logger: logger)
                }
                let rows = try await connection.query("SELECT install_id FROM install", logger: logger).collect()
                let id = try rows.first?.decode(String.self) ?? ""
                try await connection.query("COMMIT", logger: logger)
                return id
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// How many steps the database has; 0 for an empty database. Refuses a database that holds
    /// other tables and no `detour_schema`.
    private static func appliedSteps(_ connection: PostgresConnection, location: PostgresLocation, logger: Logger) async throws -> Int {
        let tables = try await connection.query("""
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = current_schema() ORDER BY table_name
            """, logger: logger).collect().map { try $0.decode(String.self) }
        if tables.contains("detour_schema") {
            let rows = try await connection.query("SELECT steps FROM detour_schema", logger: logger).collect()
            return Int(try rows.first?.decode(Int32.self) ?? 0)
        }
        if !tables.isEmpty {
            let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
            throw StoreError(.unavailable, "the database \(location) is not Detour's: it has tables (\(shown)) "
                             + "and no detour_schema; give Detour a database of its own")
        }
        try await connection.query("CREATE TABLE detour_schema (steps integer NOT NULL)", logger: logger)
        try await connection.query("INSERT INTO detour_schema (steps) VALUES (0)", logger: logger)
        return 0
    }

    static let v1 = """
        CREATE TABLE install (
            id integer PRIMARY KEY CHECK (id = 1),
            install_id text NOT NULL CHECK (length(install_id) = 32)
        );
        CREATE FUNCTION detour_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;
        CREATE TRIGGER install_refuses_change BEFORE UPDATE OR DELETE ON install
            FOR EACH ROW EXECUTE FUNCTION detour_refuse_change('the install id never changes');

        CREATE TABLE shared_keys (
            name text PRIMARY KEY,
            key bytea NOT NULL
        );

        CREATE TABLE leader (
            id integer PRIMARY KEY CHECK (id = 1),
            node text NOT NULL,
            term bigint NOT NULL CHECK (term > 0),
            expires_at double precision NOT NULL
        );

        CREATE TABLE nodes (
            name text PRIMARY KEY,
            started_at double precision NOT NULL,
            heartbeat_at double precision NOT NULL
        );

        CREATE TABLE policy_versions (
            id bigserial PRIMARY KEY,
            business text NOT NULL,
            file text NOT NULL,
            content_hash text NOT NULL,
            loaded_at double precision NOT NULL,
            UNIQUE (business, content_hash)
        );

        CREATE TABLE status_transitions (
            id bigserial PRIMARY KEY,
            platform text NOT NULL,
            from_state text NOT NULL CHECK (from_state IN ('operational', 'degraded', 'down', 'unknown')),
            to_state text NOT NULL CHECK (to_state IN ('operational', 'degraded', 'down', 'unknown')),
            reason text NOT NULL,
            at double precision NOT NULL
        );
        CREATE INDEX status_transitions_platform ON status_transitions (platform, id);

        CREATE TABLE incidents (
            id bigserial PRIMARY KEY,
            business text NOT NULL,
            origin text NOT NULL CHECK (origin IN ('probes', 'manual')),
            opened_by text NOT NULL,
            reason text NOT NULL,
            platforms text NOT NULL,
            policy_version bigint NOT NULL REFERENCES policy_versions ON DELETE RESTRICT,
            state text NOT NULL CHECK (state IN ('open', 'resolved')),
            opened_at double precision NOT NULL,
            resolved_at double precision,
            resolved_by text,
            resolve_reason text,
            event_sequence integer NOT NULL
        );
        CREATE UNIQUE INDEX incidents_one_open ON incidents (business) WHERE state = 'open';
        CREATE INDEX incidents_business ON incidents (business, id);

        CREATE TABLE deliveries (
            id bigserial PRIMARY KEY,
            incident bigint NOT NULL REFERENCES incidents ON DELETE RESTRICT,
            business text NOT NULL,
            event text NOT NULL CHECK (event IN ('opened', 'resolved')),
            event_sequence integer NOT NULL,
            channel text NOT NULL,
            target text NOT NULL,
            recipient_name text,
            locale text,
            idempotency_key text NOT NULL,
            state text NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'dead')),
            attempts integer NOT NULL DEFAULT 0,
            created_at double precision NOT NULL,
            next_attempt_at double precision NOT NULL,
            lease_owner text,
            lease_expires_at double precision,
            last_error text,
            reply text,
            sent_at double precision,
            CHECK (state <> 'sending' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
            UNIQUE (incident, idempotency_key)
        );
        CREATE INDEX deliveries_claim ON deliveries (channel, state, next_attempt_at, id);
        CREATE INDEX deliveries_incident ON deliveries (incident, channel, target);
        CREATE INDEX deliveries_leases ON deliveries (lease_owner) WHERE state = 'sending';
        CREATE INDEX deliveries_dead ON deliveries (business) WHERE state = 'dead';

        CREATE TABLE overrides (
            business text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('failover', 'hold')),
            platforms text NOT NULL,
            reason text NOT NULL,
            set_by text NOT NULL,
            set_at double precision NOT NULL,
            expires_at double precision,
            PRIMARY KEY (business, kind)
        );

        CREATE TABLE unsubscribes (
            business text NOT NULL,
            email text NOT NULL CHECK (email = lower(email)),
            at double precision NOT NULL,
            PRIMARY KEY (business, email)
        );

        CREATE TABLE audit (
            id bigserial PRIMARY KEY,
            at double precision NOT NULL,
            actor text NOT NULL,
            action text NOT NULL,
            business text,
            incident bigint,
            detail text NOT NULL
        );
        CREATE INDEX audit_business ON audit (business, id);
        CREATE TRIGGER audit_refuses_change BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION detour_refuse_change('the audit log is append-only');
        """

    /// Step 2: what the nodes of a cluster tell each other. Each node's own view of each platform,
    /// for the leader's vote; and the operators' requests a node that does not lead passes to the leader.
    static let v2 = """
        CREATE TABLE platform_views (
            node text NOT NULL,
            platform text NOT NULL,
            state text NOT NULL,
            reason text NOT NULL,
            controls_pass boolean NOT NULL,
            since double precision NOT NULL,
            at double precision NOT NULL,
            PRIMARY KEY (node, platform)
        );

        CREATE TABLE requests (
            id bigserial PRIMARY KEY,
            node text NOT NULL,
            actor text NOT NULL,
            request text NOT NULL,
            created_at double precision NOT NULL,
            taken_by text,
            taken_at double precision,
            done_at double precision,
            ok boolean,
            answer text
        );
        CREATE INDEX requests_waiting ON requests (id) WHERE taken_by IS NULL AND done_at IS NULL
        """
}
