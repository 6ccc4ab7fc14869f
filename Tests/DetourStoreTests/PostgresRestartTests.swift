import DetourCore
@testable import DetourStore
import Foundation
import Testing
import TestKit

/// The PostgreSQL store through a restart of its server: calls in the outage fail (they never hang),
/// and once the server is back the store works again by itself.
@Suite struct PostgresRestartTests {
    @Test func afterTheServerRestartsTheStoreWorksAgainByItself() async throws {
        let server = try PostgresTestServer.dedicated()
        let store = try await PostgresStore.open(try PostgresLocation(url: server.url))
        let version = try await store.recordPolicyVersion(PolicyVersion(business: BusinessID("b"), file: "b.yaml", contentHash: "h", loadedAt: Date()))
        let emails = (0..<20_000).map { NewDelivery(event: .opened, channel: .email, target: "c\($0)@example.com", idempotencyKey: "1/email/\($0)") }
        _ = try await store.openIncident(NewIncident(business: BusinessID("b"), origin: .manual, openedBy: "t", reason: "r", platforms: [],
                                                     policyVersion: version, openedAt: Date()), deliveries: emails, audit: nil)
        // Work in flight when the server goes: every connection of the pool busy.
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        while !Task.isCancelled {
                            guard let claimed = try? await store.claim(channel: .email, limit: 64, owner: "w\(worker)", lease: .seconds(60), now: Date()) else { continue }
                            _ = try? await store.complete(claimed.map { CompletedDelivery(id: $0.id, outcome: .sent(reply: "250 ok")) },
                                                          owner: "w\(worker)", now: Date())
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        try server.restart()
        try await Task.sleep(for: .milliseconds(500))
        load.cancel()
        // The load's own calls end too: none hangs on a connection the server dropped.
        let ended = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await load.value; return true }
            group.addTask { try? await Task.sleep(for: .seconds(45)); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(ended, "a store call in flight when the server went down was not answered within its deadline")
        var worked = false
        let deadline = Date().addingTimeInterval(30)
        var errors: [String] = []
        while Date() < deadline {
            let started = Date()
            do {
                _ = try await withTimeout(10) { try await store.queueDepth() }
                worked = true
                break
            } catch {
                errors.append("\(String(format: "%.1f", Date().timeIntervalSince(started))) s: \(error)")
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        #expect(worked, "\(errors)")
    }

    private func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask { try await Task.sleep(for: .seconds(seconds)); return nil }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw CancellationError() }
            return value
        }
    }
}
