import Foundation
import Testing
import TestKit
@testable import DetourTransport

@Suite(.timeLimit(.minutes(1)))
struct SMTPConnectionPoolTests {
    @Test func poolOfFourSendsTwoHundredMessagesOverFourConnections() async throws {
        let server = try SMTPStandIn()
        let pool = SMTPConnectionPool(settings: SMTPSettings(url: server.url, startTLS: .off),
                                      maxConnections: 4, logger: quietLogger)
        let codes = try await withThrowingTaskGroup(of: Int.self) { group in
            for number in 1...200 {
                group.addTask {
                    try await pool.send(from: "shop@example.test", to: ["c\(number)@example.test"],
                                        message: testMessage(number)).code
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(codes.count == 200 && codes.allSatisfy { $0 == 250 })
        let received = server.messages()
        #expect(received.count == 200)
        #expect(Set(received.map(\.data)).count == 200)
        #expect(server.connectionCount() == 4)
        #expect(await pool.openConnections == 4)
        await pool.close()
    }

    @Test func rateLimitSpacesMessagesOut() async throws {
        let server = try SMTPStandIn()
        let pool = SMTPConnectionPool(settings: SMTPSettings(url: server.url, startTLS: .off), maxConnections: 2,
                                      rateLimit: SMTPRateLimit(messagesPerSecond: 20, burst: 1), logger: quietLogger)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 1...11 {
                group.addTask { _ = try await pool.send(from: "s@example.test", to: ["c@example.test"],
                                                        message: testMessage(number)) }
            }
            try await group.waitForAll()
        }
        // One at once, then ten more at 20 per second: at least half a second.
        #expect(ContinuousClock.now - started >= .milliseconds(480))
        #expect(server.messages().count == 11)
        await pool.close()
    }

    @Test func closedPoolRefusesToSend() async throws {
        let server = try SMTPStandIn()
        let pool = SMTPConnectionPool(settings: SMTPSettings(url: server.url, startTLS: .off),
                                      maxConnections: 1, logger: quietLogger)
        await pool.close()
        do {
            _ = try await pool.send(from: "s@example.test", to: ["c@example.test"], message: testMessage())
            Issue.record("a closed pool sent a message")
        } catch {
            #expect(error.kind == .cancelled)
        }
    }
}
