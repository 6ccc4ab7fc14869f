import Foundation
import Testing
import DetourCore

/// The engine never asks twice for the same thing: a decision waits for `record` before the next.
@Suite struct EngineOnceTests {
    @Test func noSecondOpenUntilTheOpenIsRecorded() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        #expect(desk.tick(180).map(\.kind) == ["open"])
        // The daemon has not recorded it yet.
        #expect(desk.tick(190) == [])
        #expect(desk.tick(600) == [])
        desk.apply([.open(.rosies, platforms: [.instagram], reason: "")], at: 180)
        #expect(desk.tick(610) == [])
        #expect(desk.store[.rosies]?.isOpen == true)
    }

    @Test func noSecondReopenUntilTheReopenIsRecorded() {
        var desk = EngineDesk(failoverPolicy(), latest: [
            .rosies: BusinessIncident(id: 3, origin: .probes, platforms: [.instagram], openedAt: at(-900), resolvedAt: at(-10)),
        ])
        desk.set(.instagram, to: .down, since: 0)
        #expect(desk.tick(180).map(\.kind) == ["reopen"])
        #expect(desk.tick(240) == [])
    }

    @Test func noSecondResolveUntilTheResolveIsRecorded() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        desk.set(.instagram, to: .operational, since: 600)
        desk.run(600)
        #expect(desk.tick(900).map(\.kind) == ["resolve"])
        #expect(desk.tick(960) == [])
        #expect(desk.tick(7200) == [])
    }

    @Test func recordingWhatTheStoreStillHoldsLetsTheEngineDecideAgain() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        #expect(desk.tick(180).map(\.kind) == ["open"])
        // Applying it failed: the daemon records that the store has no incident.
        desk.engine.record(.rosies, incident: nil)
        #expect(desk.tick(190).map(\.kind) == ["open"])
    }

    @Test func aRecordedOpenIncidentIsNotOpenedAgain() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        desk.set(.instagram, .facebook, to: .down, since: 200)
        #expect(desk.run(stride(from: 190, through: 7200, by: 10)) == [])
    }

    @Test func aWholeOutageGivesOneOpenAndOneResolve() {
        var desk = EngineDesk(failoverPolicy(), failoverPolicy(.corner, on: [.instagram, .whatsapp], when: .all))
        desk.set(.instagram, .whatsapp, to: .down, since: 0)
        var decisions = desk.run(stride(from: 0, through: 1800, by: 10))
        desk.set(.instagram, .whatsapp, to: .operational, since: 1800)
        decisions += desk.run(stride(from: 1810, through: 7200, by: 10))
        #expect(decisions.map { "\($0.business) \($0.kind)" }
                == ["corner-shop open", "rosies-bakery open", "corner-shop resolve", "rosies-bakery resolve"])
    }
}
