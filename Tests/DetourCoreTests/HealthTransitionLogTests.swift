import Foundation
import Testing
import DetourCore

@Suite struct HealthTransitionLogTests {
    func transition(_ platform: PlatformID, _ seconds: Double) -> StatusTransition {
        StatusTransition(platform: platform, from: .operational, to: .down, reason: "r\(Int(seconds))", at: at(seconds))
    }

    @Test func recentTransitionsComeNewestFirst() async throws {
        let log: any StatusTransitionLog = InMemoryStatusTransitionLog()
        for t in [0.0, 10, 20] { try await log.record(transition(.instagram, t)) }
        let recent = try await log.recent(platform: nil, limit: 10)
        #expect(recent.map(\.reason) == ["r20", "r10", "r0"])
    }

    @Test func recentTransitionsCanBeOfOnePlatformAndLimited() async throws {
        let log: any StatusTransitionLog = InMemoryStatusTransitionLog()
        for (i, t) in [0.0, 10, 20, 30, 40].enumerated() {
            try await log.record(transition(i.isMultiple(of: 2) ? .instagram : .facebook, t))
        }
        #expect(try await log.recent(platform: .instagram, limit: 2).map(\.reason) == ["r40", "r20"])
        #expect(try await log.recent(platform: .facebook, limit: 10).map(\.reason) == ["r30", "r10"])
        #expect(try await log.recent(platform: nil, limit: 0).isEmpty)
    }

    @Test func theInMemoryLogDropsTheOldestBeyondItsCapacity() async throws {
        let log: any StatusTransitionLog = InMemoryStatusTransitionLog(capacity: 3)
        for t in [0.0, 10, 20, 30, 40] { try await log.record(transition(.instagram, t)) }
        #expect(try await log.recent(platform: nil, limit: 10).map(\.reason) == ["r40", "r30", "r20"])
    }

    @Test func trackerTransitionsCanBeKeptInTheLog() async throws {
        let log: any StatusTransitionLog = InMemoryStatusTransitionLog()
        var rounds = Rounds()
        for t in [0.0, 30, 60, 90] {
            if let transition = rounds.round(t, t == 0 ? allOk : allFailing) { try await log.record(transition) }
        }
        let recent = try await log.recent(platform: .instagram, limit: 10)
        #expect(recent.map(\.to) == [.down, .degraded, .operational])
    }
}
