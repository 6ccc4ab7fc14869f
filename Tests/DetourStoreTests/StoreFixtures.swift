import DetourCore
import DetourStore
import Foundation
import Testing
import TestKit

/// A store on a fresh file in its own temp directory, with one business and its policy version.
struct StoreFixture {
    let dir: TempDir
    let store: SQLiteStore
    var path: String { store.path }
    /// Whole milliseconds, so dates compare exactly after a round trip.
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000.125)
    let business = BusinessID("rosies")
    let policyVersion: Int64

    init() async throws {
        dir = try TempDir("detour-store")
        store = try SQLiteStore(path: dir.file("state.sqlite"))
        policyVersion = try await store.recordPolicyVersion(
            PolicyVersion(business: business, file: "policies/rosies.yaml", contentHash: "abc123", loadedAt: Self.t0))
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
