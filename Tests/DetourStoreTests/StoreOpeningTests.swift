import DetourCore
@testable import DetourStore
import Foundation
import GRDB
import Testing
import TestKit

@Suite struct StoreOpeningTests {
    @Test func aFreshFileIsMigratedInWALModeWithForeignKeys() async throws {
        let f = try await StoreFixture()
        let tables = try await f.sqlite.pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        }
        #expect(tables == ["audit", "deliveries", "incidents", "install", "overrides", "policy_versions", "status_transitions", "unsubscribes"])
        let (journal, foreignKeys) = try await f.sqlite.pool.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Bool.fetchOne(db, sql: "PRAGMA foreign_keys"))
        }
        #expect(journal == "wal")
        #expect(foreignKeys == true)
    }

    @Test func theSchemaItselfRefusesASecondOpenIncidentAndADuplicateKey() async throws {
        let f = try await StoreFixture()
        let open = try await f.open(emails: 1)
        await #expect(throws: DatabaseError.self) {
            try await f.sqlite.pool.write { db in
                try db.execute(sql: """
                    INSERT INTO incidents (business, origin, opened_by, reason, platforms, policy_version, state, opened_at, event_sequence)
                    VALUES (?, 'probes', 'probes', 'again', '[]', ?, 'open', 0, 1)
                    """, arguments: [f.business.rawValue, f.policyVersion])
            }
        }
        await #expect(throws: DatabaseError.self) {
            try await f.sqlite.pool.write { db in
                try db.execute(sql: """
                    INSERT INTO deliveries (incident, business, event, event_sequence, channel, target, idempotency_key,
                                            state, created_at, next_attempt_at)
                    VALUES (?, ?, 'opened', 1, 'email', 'x@example.com', '1/1/email/customer0@example.com', 'queued', 0, 0)
                    """, arguments: [open.id, f.business.rawValue])
            }
        }
    }

    @Test func reopeningAnExistingFileKeepsWhatWasStored() async throws {
        let dir = try TempDir("detour-store")
        let path = dir.file("state.sqlite")
        let incidentID: Int64
        do {
            let store = try SQLiteStore(path: path)
            let version = try await store.recordPolicyVersion(
                PolicyVersion(business: BusinessID("rosies"), file: "rosies.yaml", contentHash: "h1", loadedAt: StoreFixture.t0))
            incidentID = try await store.openIncident(
                NewIncident(business: BusinessID("rosies"), origin: .manual, openedBy: "uid 1000 (alice)", reason: "by hand",
                            platforms: [.whatsapp], policyVersion: version, openedAt: StoreFixture.t0),
                deliveries: StoreFixture.emails(2), audit: nil).id
        }
        let reopened = try SQLiteStore(path: path)
        let incident = try await reopened.incident(incidentID)
        #expect(incident?.platforms == [.whatsapp])
        #expect(incident?.openedAt == StoreFixture.t0)
        #expect(try await reopened.queueDepth()[.queued] == 2)
        let again = try await reopened.recordPolicyVersion(
            PolicyVersion(business: BusinessID("rosies"), file: "rosies.yaml", contentHash: "h1", loadedAt: StoreFixture.t0))
        #expect(again == incident?.policyVersion)
    }

    @Test func aMissingStateDirectoryIsCreatedForOnlyDetour() async throws {
        let dir = try TempDir("detour-store")
        let store = try SQLiteStore(path: dir.file("state/state.sqlite"))
        #expect(try await store.queueDepth()[.queued] == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.file("state"))
        #expect(attributes[.type] as? FileAttributeType == .typeDirectory)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test func aMissingDirectoryWhoseParentIsMissingTooIsNamedWithWhatToDo() async throws {
        let dir = try TempDir("detour-store")
        let path = dir.file("nowhere/state/state.sqlite")
        let error = await storeError { try SQLiteStore(path: path) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains(dir.file("nowhere/state")) == true)
        #expect(error?.message.contains("does not exist") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.file("nowhere")))
    }

    @Test(.enabled(if: getuid() != 0, "root can write anywhere"))
    func anUnwritableDirectoryIsNamedWithWhatToDo() async throws {
        let dir = try TempDir("detour-store")
        let locked = dir.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o500])
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: locked) }
        let error = await storeError { try SQLiteStore(path: locked + "/state.sqlite") }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains(locked) == true)
        #expect(error?.message.contains("is read-only (mode 500)") == true)
    }

    @Test func aFileThatIsNotADatabaseIsNamedWithWhatToDo() async throws {
        let dir = try TempDir("detour-store")
        let path = try dir.write("state.sqlite", String(repeating: "detour: this is a YAML file, not a database\n", count: 50))
        let error = await storeError { try SQLiteStore(path: path) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("not an SQLite database") == true)
    }

    @Test func aDirectoryInPlaceOfTheFileIsNamed() async throws {
        let dir = try TempDir("detour-store")
        try FileManager.default.createDirectory(atPath: dir.file("state.sqlite"), withIntermediateDirectories: false)
        let error = await storeError { try SQLiteStore(path: dir.file("state.sqlite")) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("is a directory") == true)
    }
}
