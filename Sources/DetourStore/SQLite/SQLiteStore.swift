import DetourCore
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

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
    let pool: DatabasePool

    /// Opens (creating if needed) and migrates the state file at `path`.
    ///
    /// The directory must already exist and be writable by this user: SQLite keeps `-wal` and `-shm`
    /// files beside the database. Fails with `StoreError.unavailable` naming the path and what to fix.
    public init(path: String) throws {
        self.path = path
        try Self.checkPlace(path)
        var config = Configuration()
        config.label = "detour.store"
        config.foreignKeysEnabled = true
        // Other processes (a second daemon, the CLI) may hold the write lock for a moment: wait, not fail.
        config.busyMode = .timeout(5)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            let migrator = Migrations.migrator
            if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
                throw StoreError(.unavailable, "the state file \(path) was written by a newer version of Detour; "
                                 + "run that version, or move the file away to start afresh")
            }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.openingError(error, path: path)
        }
    }

    // MARK: Opening errors

    /// Refuses early, with a message that says what to fix, what SQLite would only call "unable to open".
    private static func checkPlace(_ path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        let fm = FileManager.default
        guard fm.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw StoreError(.unavailable, "cannot open the state file \(path): the directory \(dir) does not exist; "
                             + "create it (owned by the user Detour runs as) or set `state:` in detour.yaml to another path")
        }
        guard isDir.boolValue else {
            throw StoreError(.unavailable, "cannot open the state file \(path): \(dir) is not a directory")
        }
        guard access(dir, W_OK | X_OK) == 0 else {
            throw StoreError(.unavailable, "cannot open the state file \(path): permission denied on the directory \(dir); "
                             + "the user Detour runs as (uid \(getuid())) must be able to write there, because SQLite "
                             + "keeps -wal and -shm files beside the database (fix with chown or chmod)")
        }
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard !isDir.boolValue else {
                throw StoreError(.unavailable, "cannot open the state file \(path): it is a directory; point `state:` at a file")
            }
            guard access(path, R_OK | W_OK) == 0 else {
                throw StoreError(.unavailable, "cannot open the state file \(path): permission denied; the user Detour "
                                 + "runs as (uid \(getuid())) must be able to read and write it (fix with chown or chmod)")
            }
        }
    }

    private static func openingError(_ error: any Error, path: String) -> StoreError {
        guard let db = error as? DatabaseError else {
            return StoreError(.unavailable, "cannot open the state file \(path): \(error)")
        }
        switch db.resultCode {
        case .SQLITE_NOTADB:
            return StoreError(.unavailable, "cannot open the state file \(path): it is not an SQLite database; "
                              + "move it away (Detour creates a new one) or set `state:` in detour.yaml to another path")
        case .SQLITE_CORRUPT:
            return StoreError(.unavailable, "cannot open the state file \(path): the database is damaged; "
                              + "restore it from a backup or move it away (Detour creates a new one)")
        case .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_AUTH:
            return StoreError(.unavailable, "cannot open the state file \(path): \(db.message ?? "permission denied"); "
                              + "check that the user Detour runs as can read and write it and its directory")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError(.unavailable, "cannot open the state file \(path): another process held it locked "
                              + "for more than 5 s (\(db.message ?? "busy"))")
        default:
            return StoreError(.unavailable, "cannot open the state file \(path): \(db.message ?? "\(db)")")
        }
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
