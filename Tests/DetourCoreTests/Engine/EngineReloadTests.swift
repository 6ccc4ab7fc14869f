import Foundation
import Testing
import DetourCore

/// A reload replaces the policies; incidents go on, removed businesses get the all-clear.
@Suite struct EngineReloadTests {
    @Test func aRemovedBusinessWithAnOpenIncidentIsResolved() {
        var desk = EngineDesk(failoverPolicy(.rosies), failoverPolicy(.corner))
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        let decisions = desk.engine.replacePolicies([failoverPolicy(.corner)], now: at(200))
        #expect(decisions == [.resolve(.rosies, incident: 2, reason: "business removed from the policies directory")])
        #expect(desk.engine.policies.keys.sorted() == [.corner])
        // Not twice, at a reload or a tick, while the daemon applies it.
        #expect(desk.engine.replacePolicies([failoverPolicy(.corner)], now: at(210)) == [])
        #expect(desk.tick(220) == [])
    }

    @Test func aRemovedBusinessWithoutAnOpenIncidentGetsNothing() {
        var desk = EngineDesk(failoverPolicy(.rosies), failoverPolicy(.corner))
        desk.set(.instagram, to: .operational, since: 0)
        desk.run(60)
        #expect(desk.engine.replacePolicies([failoverPolicy(.corner)], now: at(100)) == [])
    }

    @Test func anIncidentRecordedAfterItsBusinessWasRemovedIsResolvedAtTheNextTick() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        let open = desk.tick(180)
        #expect(desk.engine.replacePolicies([], now: at(185)) == [])
        desk.apply(open, at: 186)
        #expect(desk.tick(190) == [.resolve(.rosies, incident: 1, reason: "business removed from the policies directory")])
    }

    @Test func anOpenIncidentOfABusinessStillPresentIsKept() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        #expect(desk.engine.replacePolicies([failoverPolicy(recoveryGrace: .minutes(1))], now: at(300)) == [])
        #expect(desk.run(310) == [])
        // The new recovery grace applies to the incident.
        desk.set(.instagram, to: .operational, since: 600)
        desk.run(600)
        #expect(desk.run(660).map { "\($0.kind) \($0.business)" } == ["resolve rosies-bakery"])
    }

    @Test func aChangedGraceAppliesAtTheNextTick() {
        var desk = EngineDesk(failoverPolicy(grace: .minutes(10)))
        desk.set(.instagram, to: .down, since: 0)
        #expect(desk.run(120) == [])
        _ = desk.engine.replacePolicies([failoverPolicy(grace: .minutes(2))], now: at(125))
        #expect(desk.run(130).map(\.kind) == ["open"])
    }

    @Test func aLongerGraceDelaysAFailoverNotYetMade() {
        var desk = EngineDesk(failoverPolicy(grace: .minutes(3)))
        desk.set(.instagram, to: .down, since: 0)
        desk.run(120)
        _ = desk.engine.replacePolicies([failoverPolicy(grace: .minutes(10))], now: at(125))
        #expect(desk.run(stride(from: 130, through: 599, by: 10)) == [])
        #expect(desk.run(600).map(\.kind) == ["open"])
    }

    @Test func dependingOnOtherPlatformsRestartsTheRecoveryTimer() {
        var desk = EngineDesk(failoverPolicy(on: [.instagram, .facebook]))
        desk.set(.instagram, to: .down, since: 0)
        desk.set(.facebook, to: .operational, since: 0)
        desk.run(180)
        desk.set(.instagram, to: .operational, since: 600)
        desk.run(600)
        _ = desk.engine.replacePolicies([failoverPolicy(on: [.instagram])], now: at(700))
        #expect(desk.run([700, 900]) == [])
        #expect(desk.run(1000).map(\.kind) == ["resolve"])
    }

    @Test func aBusinessAddedBackRemembersItsLastIncident() {
        var desk = EngineDesk(failoverPolicy())
        desk.set(.instagram, to: .down, since: 0)
        desk.run(180)
        desk.apply(desk.engine.replacePolicies([], now: at(200)), at: 200)
        #expect(desk.store[.rosies]?.resolvedAt == at(200))
        _ = desk.engine.replacePolicies([failoverPolicy()], now: at(300))
        #expect(desk.run(310).map(\.kind) == ["reopen"])
    }
}
