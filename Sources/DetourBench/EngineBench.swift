import DetourCore
import Foundation

/// `evaluate` over N businesses, each on 1–3 of the five built-in platforms, tick after tick (10 s
/// apart) through outages, recoveries and a network blip, with decisions recorded as the daemon does:
/// median, p99 and worst time of one evaluate.
enum EngineBench {
    static func run(businesses count: Int, ticks: Int = 3000) {
        let platforms = PlatformID.builtIn
        let policies = (0..<count).map { i in
            let dependsOn = (0...(i % 3)).map { platforms[(i + $0 * 2) % platforms.count] }
            let business = BusinessID(String(format: "business-%05d", i))
            return Policy(business: business, displayName: business.rawValue, dependsOn: dependsOn,
                          failWhen: i % 4 == 0 ? .all : .any, grace: .minutes(3), recoveryGrace: .minutes(5),
                          cooldown: .minutes(10), message: Messages(outage: "We are on email", recovery: nil), contacts: [],
                          email: nil, banner: nil, webhooks: [], recovery: RecoveryPlan(allClear: [.email]),
                          source: PolicySource(file: "\(business).yaml", contentHash: "0"))
        }
        var overrides = EngineOverrides()
        for i in stride(from: 0, to: count, by: 100) { overrides.holds[policies[i].business] = .some(nil) }
        for i in stride(from: 50, to: count, by: 100) { overrides.manualFailover.insert(policies[i].business) }

        var engine = FailoverEngine(policies: policies, latest: [:])
        let start = Date()
        var store: [BusinessID: BusinessIncident] = [:]
        var nextID: Int64 = 1
        var decisionCount = 0
        var times: [Double] = []
        times.reserveCapacity(ticks)
        var statuses = Dictionary(uniqueKeysWithValues: platforms.map {
            ($0, PlatformStatus(platform: $0, state: .operational, reason: "3 of 3 probes ok", since: start))
        })
        for tick in 0..<ticks {
            let now = start.addingTimeInterval(Double(tick) * 10)
            for (n, platform) in platforms.enumerated() {
                let state = scriptedState(platform: n, tick: tick)
                if statuses[platform]?.state != state {
                    statuses[platform] = PlatformStatus(platform: platform, state: state,
                                                        reason: "3 of 3 probes \(state == .down ? "failing: HTTP 503" : "ok")",
                                                        since: now)
                }
            }
            let before = ContinuousClock.now
            let decisions = engine.evaluate(statuses: statuses, overrides: overrides, now: now)
            let elapsed = ContinuousClock.now - before
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            decisionCount += decisions.count
            for decision in decisions {
                let business = decision.business
                switch decision {
                case .open(_, let platforms, _):
                    store[business] = BusinessIncident(id: nextID, origin: .probes, platforms: platforms, openedAt: now)
                    nextID += 1
                case .reopen:
                    store[business]?.resolvedAt = nil
                case .resolve:
                    store[business]?.resolvedAt = now
                }
                engine.record(business, incident: store[business])
            }
        }
        times.sort()
        func ms(_ q: Double) -> String { String(format: "%.3f ms", times[min(times.count - 1, Int(Double(times.count) * q))] * 1000) }
        printTable([
            ["benchmark", "businesses", "ticks", "decisions", "median", "p99", "max"],
            ["engine-evaluate", "\(count)", "\(ticks)", "\(decisionCount)", ms(0.5), ms(0.99),
             String(format: "%.3f ms", (times.last ?? 0) * 1000)],
        ])
        print("target: under 10 ms per evaluate for 1000 businesses")
    }

    /// A repeating hour (360 ticks) per platform: outages of different lengths, staggered, a flap,
    /// and our own network blipping to unknown for every platform at once.
    static func scriptedState(platform n: Int, tick: Int) -> PlatformState {
        let t = (tick + n * 37) % 360
        if (tick % 360) >= 300 && (tick % 360) < 306 { return .unknown }
        switch t {
        case 20..<(80 + n * 10): return .down
        case 100..<110, 115..<118: return .down
        case 150..<200: return n % 2 == 0 ? .degraded : .operational
        default: return .operational
        }
    }
}
