import Foundation
import Testing
import DetourCore

/// A thousand businesses in one tick: the engine's work grows with the businesses, no more.
@Suite struct EngineScaleTests {
    /// A loose bound for a debug build on a shared machine; `detour-bench engine 1000` measures the real figure.
    @Test func aThousandBusinessesAreEvaluatedWellWithinATick() {
        let policies = (0..<1000).map { i in
            failoverPolicy(BusinessID("business-\(i)"), on: (0...(i % 3)).map { PlatformID.builtIn[(i + $0 * 2) % 5] },
                           when: i % 4 == 0 ? .all : .any)
        }
        var desk = EngineDesk(policies: policies, latest: [:])
        desk.set(.facebook, .threads, .messenger, .whatsapp, to: .operational, since: 0)
        desk.set(.instagram, to: .down, since: 0)
        var times: [Duration] = []
        var opened = 0
        for tick in 0..<21 {
            let before = ContinuousClock.now
            let decisions = desk.tick(Double(tick) * 10)
            times.append(ContinuousClock.now - before)
            opened += decisions.count
            desk.apply(decisions, at: Double(tick) * 10)
        }
        #expect(opened > 0)
        #expect(times.sorted()[times.count / 2] < .milliseconds(100))
    }
}
