import DetourCore
@testable import DetourStore
import Foundation
import GRDB
import Synchronization
import Testing
import TestKit

@Suite struct BatchCompletionTests {
    let t0 = StoreFixture.t0

    @Test(arguments: StoreKind.allCases) func fiveHundredOutcomesAreRecordedInOneCommitAndStolenLeasesAreReturned(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 502)
        let mine = try await f.store.claim(channel: .email, limit: 500, owner: "a", lease: .seconds(30), now: t0)
        let short = try await f.store.claim(channel: .email, limit: 2, owner: "a", lease: .seconds(5), now: t0)
        let stolen = try await f.store.claim(channel: .email, limit: 10, owner: "b", lease: .seconds(30), now: t0 + 6)
        #expect(mine.count == 500 && short.count == 2 && Set(stolen.map(\.id)) == Set(short.map(\.id)))

        var outcomes: [CompletedDelivery] = []
        for (i, d) in (mine + short).enumerated() {
            switch i % 3 {
            case 0: outcomes.append(CompletedDelivery(id: d.id, outcome: .sent(reply: "250 OK \(i)")))
            case 1: outcomes.append(CompletedDelivery(id: d.id, outcome: .retry(error: "421 busy", retryAt: t0 + 60)))
            default: outcomes.append(CompletedDelivery(id: d.id, outcome: .dead(error: "550 no such user")))
            }
        }
        // One commit: counted on SQLite; on PostgreSQL `complete` is one transaction by construction.
        let commits = CommitCounter()
        if kind == .sqlite {
            try await f.sqlite.pool.writeWithoutTransaction { $0.add(transactionObserver: commits, extent: .observerLifetime) }
        }

        let lost = try await f.store.complete(outcomes, owner: "a", now: t0 + 7)

        #expect(lost == short.map(\.id))
        if kind == .sqlite { #expect(commits.count == 1) }
        let all = try await f.store.deliveries(DeliveryFilter(limit: 1000))
        let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
        for (i, d) in mine.enumerated() {
            let stored = try #require(byID[d.id])
            #expect(stored.leaseOwner == nil && stored.leaseExpiresAt == nil)
            switch i % 3 {
            case 0: #expect(stored.state == .sent && stored.reply == "250 OK \(i)" && stored.sentAt == t0 + 7)
            case 1: #expect(stored.state == .failed && stored.lastError == "421 busy" && stored.nextAttemptAt == t0 + 60)
            default: #expect(stored.state == .dead && stored.lastError == "550 no such user")
            }
        }
        for d in short {
            let stored = try #require(byID[d.id])
            #expect(stored.state == .sending && stored.leaseOwner == "b" && stored.reply == nil && stored.lastError == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func anEmptyBatchChangesNothing(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        #expect(try await f.store.complete([], owner: "a", now: t0).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func anIDGivenTwiceIsRecordedOnceAndTheSecondIsLost(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        try await f.open(emails: 1)
        let id = try #require(try await f.store.claim(channel: .email, limit: 1, owner: "a", lease: .seconds(30), now: t0).first?.id)
        let lost = try await f.store.complete([CompletedDelivery(id: id, outcome: .sent(reply: "250 first")),
                                               CompletedDelivery(id: id, outcome: .dead(error: "second"))],
                                              owner: "a", now: t0)
        #expect(lost == [id])
        let stored = try #require(try await f.store.deliveries(DeliveryFilter()).first)
        #expect(stored.state == .sent && stored.reply == "250 first" && stored.lastError == nil)
    }
}

/// Counts the commits of transactions that changed the database.
private final class CommitCounter: TransactionObserver, Sendable {
    private let commits = Mutex(0)
    var count: Int { commits.withLock { $0 } }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { commits.withLock { $0 += 1 } }
    func databaseDidRollback(_ db: Database) {}
}
