import DetourCore
@testable import DetourStore
import Foundation
import Testing
import TestKit

/// The two stores, for the tests of the `Store` contract: each such test runs on both.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A store on a fresh file in its own temp directory (SQLite), or in a fresh database on the test
/// PostgreSQL server, with one business and its policy version.
struct StoreFixture {
    let dir: TempDir
    let kind: StoreKind
    let store: any Store
    /// The PostgreSQL database's URL (nil for SQLite).
    let databaseURL: String?
    /// The SQLite store, for tests of the state file itself.
    var sqlite: SQLiteStore { store as! SQLiteStore }
    var path: String { sqlite.path }
    /// Whole milliseconds, so dates compare exactly after a round trip.
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000.125)
    let business = BusinessID("rosies")
    let policyVersion: Int64

    init(_ kind: StoreKind = .sqlite) async throws {
        dir = try TempDir("detour-store")
        self.kind = kind
        switch kind {
        case .sqlite:
            store = try SQLiteStore(path: dir.file("state.sqlite"))
            databaseURL = nil
        case .postgres:
            let url = try PostgresTestServer.freshDatabase()
            store = try await PostgresStore.open(try PostgresLocation(url: url))
            databaseURL = url
        }
        policyVersion = try await store.recordPolicyVersion(
            PolicyVersion(business: business, file: "policies/rosies.yaml", contentHash: "abc123", loadedAt: Self.t0))
    }

    /// Runs `sql` on the store's database behind its back (to show what the schema refuses).
    func execute(sql: String) async throws {
        switch kind {
        case .sqlite: try await sqlite.pool.write { try $0.execute(sql: sql) }
        case .postgres: try PostgresTestServer.psql(databaseURL!, sql)
        }
    }

    func newIncident(at: Date = t0, business: BusinessID? = nil) -> NewIncident {
        NewIncident(business: business ?? self.business, origin: .probes, openedBy: "probes", reason: "facebook is down",
                    platforms: [.facebook, .instagram], policyVersion: policyVersion, openedAt: at)
    }

    /// Opens an incident with `emails` email deliveries (keys `1/1/email/customerN@example.com`).
    @discardableResult
    func open(emails: Int, at: Date = t0, keyPrefix: String = "1/1") async throws -> IncidentRecord {
        try await store.openIncident(newIncident(at: at), deliveries: Self.emails(emails, keyPrefix: keyPrefix), audit: nil)
    }

    static func emails(_ count: Int, event: IncidentEvent = .opened, keyPrefix: String = "1/1") -> [NewDelivery] {
        (0..<count).map { i in
            NewDelivery(event: event, channel: .email, target: "customer\(i)@example.com", recipientName: "Customer \(i)",
                        locale: "en-GB", idempotencyKey: "\(keyPrefix)/email/customer\(i)@example.com")
        }
    }

    func audit(_ action: String, at: Date = t0, incident: Int64? = nil) -> AuditEntry {
        AuditEntry(at: at, actor: "uid 1000 (alice)", action: action, business: business, incident: incident, detail: action)
    }
}

/// The `StoreError` `body` throws, failing the test if it throws something else or nothing.
func storeError<T>(_ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async -> StoreError? {
    do {
        _ = try await body()
        Issue.record("expected a StoreError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as StoreError {
        return error
    } catch {
        Issue.record("expected a StoreError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
