import DetourCore
@testable import DetourStore
import Foundation
import GRDB
import Testing
import TestKit
#if canImport(Glibc)
import Glibc
#endif

/// The state file itself: its install id, whose database it is, its mode, and why it cannot be written.
@Suite struct StateFileTests {
    // MARK: Install id

    @Test func eachStateFileGetsItsOwnInstallIDAndKeepsItForGood() async throws {
        let dir = try TempDir("detour-store")
        let a = try SQLiteStore(path: dir.file("a.sqlite")).installID
        let b = try SQLiteStore(path: dir.file("b.sqlite")).installID
        #expect(a != b)
        #expect(a.count == 32 && a.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(try SQLiteStore(path: dir.file("a.sqlite")).installID == a)

        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dir.file("a.sqlite" + suffix)) }
        let recreated = try SQLiteStore(path: dir.file("a.sqlite")).installID
        #expect(recreated != a)
    }

    @Test func theInstallIDCannotBeChangedOrRemoved() async throws {
        let f = try await StoreFixture()
        for sql in ["UPDATE install SET install_id = '00000000000000000000000000000000'", "DELETE FROM install",
                    "INSERT INTO install (id, install_id) VALUES (2, '00000000000000000000000000000000')"] {
            await #expect(throws: DatabaseError.self) { try await f.sqlite.pool.write { try $0.execute(sql: sql) } }
        }
        #expect(try SQLiteStore(path: f.path).installID == f.store.installID)
    }

    @Test func aFileFromBeforeInstallIDsGetsOneAndKeepsItsRows() async throws {
        let dir = try TempDir("detour-store")
        let path = dir.file("state.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(queue, upTo: Migrations.first)
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO policy_versions (business, file, content_hash, loaded_at) VALUES ('rosies', 'r.yaml', 'h1', 0)
                    """)
            }
            try queue.close()
        }
        let store = try SQLiteStore(path: path)
        #expect(store.installID.count == 32)
        #expect(try SQLiteStore(path: path).installID == store.installID)
        let again = try await store.recordPolicyVersion(
            PolicyVersion(business: BusinessID("rosies"), file: "r.yaml", contentHash: "h1", loadedAt: StoreFixture.t0))
        #expect(again == 1)
    }

    @Test func storesOpeningOneNewFileAtOnceAllSucceedWithOneInstallID() async throws {
        for _ in 0..<20 {
            let dir = try TempDir("detour-store")
            let path = dir.file("state.sqlite")
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await Task.detached { try SQLiteStore(path: path).installID }.value }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
        }
    }

    // MARK: Whose database

    @Test func anotherProgramsDatabaseIsRefusedAndLeftAsItWas() async throws {
        let dir = try TempDir("detour-store")
        let path = dir.file("state.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT)")
                try db.execute(sql: "INSERT INTO contacts (email) VALUES ('someone@example.com')")
                try db.execute(sql: "PRAGMA user_version = 99")
            }
            try queue.close()
        }
        let error = await storeError { try SQLiteStore(path: path) }
        #expect(error?.code == .unavailable)
        let message = error?.message ?? ""
        #expect(message.contains(path))
        #expect(message.contains("not a Detour state database"))
        #expect(message.contains("contacts"))
        #expect(message.contains("user_version = 99"))
        #expect(message.contains("point `state:` in detour.yaml to a new file"))

        let queue = try DatabaseQueue(path: path)
        let (tables, journal) = try await queue.read { db in
            (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
             try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(tables == ["contacts"])
        #expect(journal == "delete")
    }

    @Test func anotherGRDBProgramsDatabaseIsRefused() async throws {
        let dir = try TempDir("detour-store")
        let path = dir.file("state.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("createPlayer") { db in
                try db.execute(sql: "CREATE TABLE player (id INTEGER PRIMARY KEY, name TEXT)")
            }
            try migrator.migrate(queue)
            try queue.close()
        }
        let error = await storeError { try SQLiteStore(path: path) }
        #expect(error?.message.contains("not a Detour state database") == true)
        #expect(error?.message.contains("player") == true)
    }

    @Test func aDatabaseWithOnlyAUserVersionIsRefused() async throws {
        let dir = try TempDir("detour-store")
        let path = dir.file("state.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { try $0.execute(sql: "PRAGMA user_version = 7") }
            try queue.close()
        }
        let error = await storeError { try SQLiteStore(path: path) }
        #expect(error?.message.contains("not a Detour state database (PRAGMA user_version = 7)") == true)
    }

    @Test func anEmptyFileBecomesAStateDatabase() async throws {
        let dir = try TempDir("detour-store")
        let path = try dir.write("state.sqlite", "")
        let store = try SQLiteStore(path: path)
        #expect(try await store.queueDepth()[.queued] == 0)
        #expect(store.installID.count == 32)
    }

    // MARK: File modes

    @Test func aNewStateFileAndItsWALFilesAreReadableOnlyByDetour() async throws {
        let old = umask(0o022)
        defer { umask(old) }
        let f = try await StoreFixture()
        try await f.open(emails: 3)
        for file in [f.path, f.path + "-wal", f.path + "-shm"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) is \(String(mode ?? 0, radix: 8))")
        }
    }

    @Test func anExistingFilesModeIsLeftAsTheOperatorSetIt() async throws {
        let dir = try TempDir("detour-store")
        let path = dir.file("state.sqlite")
        _ = try SQLiteStore(path: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        _ = try SQLiteStore(path: path)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o640)
    }

    // MARK: Why it cannot be written

    @Test func aDirectoryOnAReadOnlyFileSystemIsCalledThatEvenForRoot() {
        let message = SQLiteStore.writeProblem(statePath: "/srv/state/state.sqlite", WriteAccess(
            path: "/srv/state", isDirectory: true, readOnlyMount: true, accessError: EROFS, mode: 0o40755, uid: 0))
        #expect(message?.contains("the directory /srv/state is on a read-only file system") == true)
        #expect(message?.contains("/srv/state/state.sqlite") == true)
        #expect(message?.contains("permission denied") == false)
        #expect(message?.contains("uid 0") == false)
        // statvfs alone is enough: root's access() may say yes on some file systems.
        let seenByStatvfs = SQLiteStore.writeProblem(statePath: "/srv/state/state.sqlite", WriteAccess(
            path: "/srv/state", isDirectory: true, readOnlyMount: true, accessError: 0, mode: 0o40755, uid: 0))
        #expect(seenByStatvfs == message)
    }

    @Test func aDirectoryWithNoWriteBitsIsCalledReadOnly() {
        let message = SQLiteStore.writeProblem(statePath: "/srv/state/state.sqlite", WriteAccess(
            path: "/srv/state", isDirectory: true, readOnlyMount: false, accessError: EACCES, mode: 0o40555, uid: 1000))
        #expect(message?.contains("the directory /srv/state is read-only (mode 555)") == true)
        #expect(message?.contains("uid 1000") == true)
        #expect(message?.contains("permission denied") == false)
    }

    @Test func aDirectoryOwnedBySomeoneElseIsPermissionDenied() {
        let message = SQLiteStore.writeProblem(statePath: "/srv/state/state.sqlite", WriteAccess(
            path: "/srv/state", isDirectory: true, readOnlyMount: false, accessError: EACCES, mode: 0o40755, uid: 1000))
        #expect(message?.contains("permission denied on the directory /srv/state (mode 755)") == true)
        #expect(message?.contains("uid 1000") == true)
    }

    @Test func aReadOnlyStateFileIsCalledThat() {
        let readOnly = SQLiteStore.writeProblem(statePath: "/srv/state/state.sqlite", WriteAccess(
            path: "/srv/state/state.sqlite", isDirectory: false, readOnlyMount: false, accessError: EACCES,
            mode: 0o100444, uid: 1000))
        #expect(readOnly?.contains("cannot open the state file /srv/state/state.sqlite: it is read-only (mode 444)") == true)
        let mounted = SQLiteStore.writeProblem(statePath: "/srv/state/state.sqlite", WriteAccess(
            path: "/srv/state/state.sqlite", isDirectory: false, readOnlyMount: true, accessError: EROFS,
            mode: 0o100644, uid: 0))
        #expect(mounted?.contains("it is on a read-only file system") == true)
    }

    @Test func aWritableDirectoryHasNoProblem() throws {
        let dir = try TempDir("detour-store")
        let observed = WriteAccess.observe(dir.path, isDirectory: true, need: W_OK | X_OK)
        #expect(!observed.readOnlyMount && observed.accessError == 0)
        #expect(observed.mode & 0o777 != 0)
        #expect(SQLiteStore.writeProblem(statePath: dir.file("state.sqlite"), observed) == nil)
    }
}
