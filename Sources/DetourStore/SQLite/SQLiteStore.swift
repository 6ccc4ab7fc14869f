import DetourCore
import Foundation
import GRDB

/// The `Store` kept in one SQLite file (WAL), shared safely by several Detour processes on one host.
///
/// Every write that belongs together (an incident event and its deliveries and audit entry; a claim)
/// is one transaction. Dates are stored as REAL seconds since 1970, lists of platforms as JSON text.
/// WAL with `synchronous = NORMAL` (GRDB's choice for WAL): a commit survives a crash or kill of
/// the process; a power cut may lose the last commits, which the engine and the at-least-once
/// outbox then redo with the same idempotency keys.
/// Errors are `StoreError`s: `.unavailable` when the file cannot be used, `.conflict` when a change
/// contradicts what is stored, `.notFound` when the row asked for does not exist.
public final class SQLiteStore: Store {
    /// The state file.
    public let path: String
    /// The random id of this state file (32 lower-case hex digits), made when the file was created.
    public let installID: String
    let pool: DatabasePool

    /// Opens (creating if needed) and migrates the state file at `path`.
    ///
    /// A missing directory is created (mode 0700) when its parent exists; it must be writable by this
    /// user, because SQLite keeps `-wal` and `-shm` files beside the database. A new file is made mode
    /// 0600 whatever the umask: it holds customers' addresses. A file that is an SQLite database but not
    /// Detour's is refused, never migrated into. Fails with `StoreError.unavailable` naming the path and
    /// what to fix.
    public init(path: String) throws {
        self.path = path
        try Self.checkPlace(path)
        let created = try Self.createPrivateFile(path)
        var config = Configuration()
        config.label = "detour.store"
        config.foreignKeysEnabled = true
        // Other processes (a second daemon, the CLI) may hold the write lock for a moment: wait, not fail.
        config.busyMode = .timeout(5)
        do {
            if !created { try Self.refuseForeignDatabase(path, configuration: config) }
            pool = try DatabasePool(path: path, configuration: config)
            let migrator = Migrations.migrator
            if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
                throw StoreError(.unavailable, "the state file \(path) was written by a newer version of Detour; "
                                 + "run that version, or move the file away to start afresh")
            }
            // Another process opening the same new file may run a migration at the same moment (GRDB
            // reads what is applied before taking the write lock, so one of a migration's statements can
            // fail with "already exists"): fine once the schema is complete, else try again, up to 5 times,
            // when the other has gone on to a later migration.
            for attempt in 1...5 {
                do {
                    try migrator.migrate(pool)
                    break
                } catch {
                    if try pool.read({ try migrator.hasCompletedMigrations($0) }) { break }
                    if attempt == 5 { throw error }
                    Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
                }
            }
            guard let id = try pool.read({ try String.fetchOne($0, sql: "SELECT install_id FROM install") }) else {
                throw StoreError(.unavailable, "the state file \(path) has no install id (its `install` table is empty); "
                                 + "restore it from a backup or move it away (Detour creates a new one)")
            }
            installID = id
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.openingError(error, path: path)
        }
        if created { Self.restrictCompanionFiles(path) }
    }

    // MARK: Access

    /// Runs `body` in one IMMEDIATE write transaction (the write lock is taken at BEGIN, so what it reads
    /// cannot change under it, even from another process). Errors become `StoreError`s.
    func write<T: Sendable>(_ what: String, _ body: @Sendable (Database) throws -> T)
        async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw mapped(error, what)
        }
    }

    /// Runs `body` on a snapshot of the database. Errors become `StoreError`s.
    func read<T: Sendable>(_ what: String, _ body: @Sendable (Database) throws -> T)
        async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw mapped(error, what)
        }
    }

    private func mapped(_ error: any Error, _ what: String) -> any Error {
        switch error {
        case is StoreError, is CancellationError:
            return error
        case let db as DatabaseError where db.resultCode == .SQLITE_CONSTRAINT:
            return StoreError(.conflict, "\(what): \(db.message ?? "constraint failed")")
        case let db as DatabaseError:
            return StoreError(.unavailable, "\(what) in \(path): \(db.message ?? "\(db)")")
        default:
            return StoreError(.unavailable, "\(what) in \(path): \(error)")
        }
    }
}

extension Duration {
    /// This duration in seconds, as a `TimeInterval`.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
