import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

// MARK: Opening: the place, the file's mode, whose database it is, and SQLite's errors

extension SQLiteStore {
    /// Refuses early, with a message that says what to fix, what SQLite would only call "unable to open".
    /// Creates the state directory (mode 0700) when it is missing but its parent exists.
    static func checkPlace(_ path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        let fm = FileManager.default
        if !fm.fileExists(atPath: dir, isDirectory: &isDir) {
            try createDirectory(dir, for: path)
            isDir = true
        }
        guard isDir.boolValue else {
            throw StoreError(.unavailable, "cannot open the state file \(path): \(dir) is not a directory")
        }
        if let problem = writeProblem(statePath: path, WriteAccess.observe(dir, isDirectory: true, need: W_OK | X_OK)) {
            throw StoreError(.unavailable, problem)
        }
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard !isDir.boolValue else {
                throw StoreError(.unavailable, "cannot open the state file \(path): it is a directory; point `state:` at a file")
            }
            if let problem = writeProblem(statePath: path, WriteAccess.observe(path, isDirectory: false, need: R_OK | W_OK)) {
                throw StoreError(.unavailable, problem)
            }
        }
    }

    /// Makes the state directory (0700) when its parent exists; a deeper missing path is an error.
    private static func createDirectory(_ dir: String, for path: String) throws {
        let parent = URL(fileURLWithPath: dir).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDir), isDir.boolValue else {
            throw StoreError(.unavailable, "cannot open the state file \(path): the directory \(dir) does not exist, "
                             + "nor does its parent \(parent); create it (owned by the user Detour runs as) or set "
                             + "`state:` in detour.yaml to another path")
        }
        if mkdir(dir, 0o700) == 0 {
            // The umask may have taken bits away; the directory is Detour's alone.
            _ = chmod(dir, 0o700)
            return
        }
        let code = errno
        guard code != EEXIST else { return }  // another process made it first
        let problem = code == EROFS
            ? "\(parent) is on a read-only file system; set `state:` in detour.yaml to a path on a writable file system"
            : "\(String(cString: strerror(code))); create it (owned by the user Detour runs as) or set `state:` "
                + "in detour.yaml to another path"
        throw StoreError(.unavailable, "cannot open the state file \(path): the directory \(dir) does not exist "
                         + "and cannot be created: \(problem)")
    }

    /// Creates the state file, empty and mode 0600 whatever the umask, if it does not exist.
    /// Returns whether it was created here (and is therefore empty, and Detour's).
    static func createPrivateFile(_ path: String) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            let code = errno
            if code == EEXIST { return false }
            throw StoreError(.unavailable, "cannot create the state file \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else {
            let code = errno
            throw StoreError(.unavailable, "cannot make the new state file \(path) private (mode 0600): "
                             + String(cString: strerror(code)))
        }
        return true
    }

    /// SQLite gives `-wal` and `-shm` the database's mode; this makes sure of it for a new file.
    /// They come and go with the connections, so the database's own mode is what keeps them private.
    static func restrictCompanionFiles(_ path: String) {
        for companion in [path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: companion) {
            _ = chmod(companion, 0o600)
        }
    }

    /// Looks, without changing anything, at an existing file before it is migrated: an SQLite database
    /// made by another program is refused, so that Detour never adds its tables to someone else's file.
    static func refuseForeignDatabase(_ path: String, configuration: Configuration) throws {
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        let contents = try queue.read { db in
            let names = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name
                """)
            let migrations = names.contains("grdb_migrations")
                ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
            return StateFileContents(tables: names, userVersion: try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0,
                                     applicationID: try Int.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                                     migrations: migrations)
        }
        if let found = contents.foreignness {
            throw StoreError(.unavailable, "cannot open the state file \(path): it is not a Detour state database "
                             + "(\(found)); point `state:` in detour.yaml to a new file (Detour creates it), "
                             + "and leave this one to the program that made it")
        }
    }

    static func openingError(_ error: any Error, path: String) -> StoreError {
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

    /// What to say when the state directory (or file) cannot be written, from what was observed of it;
    /// nil when it can be.
    static func writeProblem(statePath path: String, _ place: WriteAccess) -> String? {
        let what = place.isDirectory ? "the directory \(place.path)" : "it"
        let fix = place.isDirectory
            ? "because SQLite keeps -wal and -shm files beside the database"
            : "because Detour writes to it"
        if place.readOnlyMount || place.accessError == EROFS {
            return "cannot open the state file \(path): \(what) is on a read-only file system; set `state:` in "
                + "detour.yaml to a path on a writable file system (such as /var/lib/detour/state.sqlite), "
                + "or mount it read-write"
        }
        guard place.accessError != 0 else { return nil }
        let mode = String(place.mode & 0o7777, radix: 8)
        if place.mode & 0o222 == 0 {
            return "cannot open the state file \(path): \(what) is read-only (mode \(mode)); make it writable by "
                + "the user Detour runs as (uid \(place.uid)) with chmod or chown, \(fix)"
        }
        if place.accessError == EACCES || place.accessError == EPERM {
            return "cannot open the state file \(path): permission denied on \(what) (mode \(mode)); the user Detour "
                + "runs as (uid \(place.uid)) must be able to \(place.isDirectory ? "write there" : "read and write it"), "
                + "\(fix) (fix with chown or chmod)"
        }
        return "cannot open the state file \(path): cannot write \(place.isDirectory ? "in " : "")\(what): "
            + String(cString: strerror(place.accessError))
    }
}

/// What was observed of the state directory or file before opening it: enough to say why it cannot be written.
struct WriteAccess: Sendable, Hashable {
    var path: String
    var isDirectory: Bool
    /// `statvfs` says its file system is mounted read-only (root too is refused there).
    var readOnlyMount: Bool
    /// `errno` of `access` for the access needed, 0 when it is allowed.
    var accessError: Int32
    /// Its permission bits.
    var mode: mode_t
    /// The user this process runs as.
    var uid: uid_t

    static func observe(_ path: String, isDirectory: Bool, need: Int32) -> WriteAccess {
        var fs = statvfs()
        let readOnly = statvfs(path, &fs) == 0 && fs.f_flag & UInt(ST_RDONLY) != 0
        let accessError = access(path, need) == 0 ? 0 : errno
        var info = stat()
        let mode = stat(path, &info) == 0 ? info.st_mode : 0
        return WriteAccess(path: path, isDirectory: isDirectory, readOnlyMount: readOnly, accessError: accessError,
                           mode: mode, uid: getuid())
    }
}

/// What an existing state file holds, seen before migrating it: whose database it is.
struct StateFileContents: Sendable, Hashable {
    /// Its tables and views, not SQLite's own.
    var tables: [String]
    var userVersion: Int
    var applicationID: Int
    /// The ids in GRDB's `grdb_migrations`, if it has that table.
    var migrations: [String]

    /// Nil for an empty database or one Detour made; else what shows it belongs to another program.
    var foreignness: String? {
        // Empty, or caught while another Detour process migrates it: GRDB makes its empty table first.
        let empty = tables.isEmpty || (tables == ["grdb_migrations"] && migrations.isEmpty)
        if empty && userVersion == 0 && applicationID == 0 { return nil }
        let detours = migrations.contains(Migrations.first) && tables.contains("deliveries")
        if detours && userVersion == 0 && applicationID == 0 { return nil }
        var found: [String] = []
        if !tables.isEmpty {
            let shown = tables.prefix(8).joined(separator: ", ")
            found.append("it has the tables \(shown)\(tables.count > 8 ? " and \(tables.count - 8) more" : "")")
        }
        if userVersion != 0 { found.append("PRAGMA user_version = \(userVersion)") }
        if applicationID != 0 { found.append("PRAGMA application_id = \(applicationID)") }
        if !detours && !tables.isEmpty { found.append("no Detour migrations") }
        return found.joined(separator: ", ")
    }
}
