import Foundation
import Testing
import DetourCore

extension BusinessID {
    static let rosies = BusinessID("rosies-bakery")
    static let corner = BusinessID("corner-shop")
    static let atelier = BusinessID("atelier")
}

/// A policy with only what the engine reads set: 3m grace, 5m recovery grace, 10m cooldown unless told.
func failoverPolicy(_ business: BusinessID = .rosies, on platforms: [PlatformID] = [.instagram], when failWhen: FailWhen = .any,
                    grace: TimeSpan = .minutes(3), recoveryGrace: TimeSpan = .minutes(5),
                    cooldown: TimeSpan = .minutes(10)) -> Policy {
    Policy(business: business, displayName: business.rawValue, dependsOn: platforms, failWhen: failWhen, grace: grace,
           recoveryGrace: recoveryGrace, cooldown: cooldown, message: Messages(outage: "We are on email", recovery: nil),
           contacts: [], email: nil, banner: nil, webhooks: [], recovery: RecoveryPlan(allClear: [.email]),
           source: PolicySource(file: "\(business).yaml", contentHash: "0"))
}

/// The reason the tracker would give for each state, as the tests set them.
func sampleReason(_ state: PlatformState) -> String {
    switch state {
    case .operational: "3 of 3 probes ok"
    case .degraded: "1 of 3 probes slow: https://www.instagram.com/ took 6.2s"
    case .down: "3 of 3 probes failing: https://www.instagram.com/ HTTP 503"
    case .unknown: "our own network is down: 2 of 3 control probes failing"
    }
}

/// A failover engine driven tick by tick (times are seconds after `start`), with the platform
/// statuses and overrides the tests set, and a stand-in for the store that numbers incidents from 1.
struct EngineDesk {
    var engine: FailoverEngine
    var statuses: [PlatformID: PlatformStatus] = [:]
    var overrides = EngineOverrides()
    /// The stand-in store: each business's newest incident.
    var store: [BusinessID: BusinessIncident]
    var nextIncident: Int64 = 1

    init(_ policies: Policy..., latest: [BusinessID: BusinessIncident] = [:]) {
        self.init(policies: policies, latest: latest)
    }

    init(policies: [Policy], latest: [BusinessID: BusinessIncident]) {
        engine = FailoverEngine(policies: policies, latest: latest)
        store = latest
        nextIncident = (latest.values.map(\.id).max() ?? 0) + 1
    }

    /// Every platform named is in `state` since `seconds`.
    mutating func set(_ platforms: PlatformID..., to state: PlatformState, since seconds: Double, reason: String? = nil) {
        for platform in platforms {
            statuses[platform] = PlatformStatus(platform: platform, state: state, reason: reason ?? sampleReason(state),
                                                since: at(seconds))
        }
    }

    /// One tick at `seconds`; decisions are returned, not applied.
    mutating func tick(_ seconds: Double) -> [EngineDecision] {
        engine.evaluate(statuses: statuses, overrides: overrides, now: at(seconds))
    }

    /// One tick at `seconds`, its decisions applied to the stand-in store and recorded, as the daemon does.
    @discardableResult
    mutating func run(_ seconds: Double) -> [EngineDecision] {
        let decisions = tick(seconds)
        apply(decisions, at: seconds)
        return decisions
    }

    /// Ticks at each offset, applying decisions; returns every decision made.
    @discardableResult
    mutating func run(_ offsets: some Sequence<Double>) -> [EngineDecision] {
        offsets.flatMap { run($0) }
    }

    /// Applies decisions to the stand-in store and records the outcome in the engine.
    mutating func apply(_ decisions: [EngineDecision], at seconds: Double) {
        for decision in decisions {
            let business = decision.business
            switch decision {
            case .open(_, let platforms, _):
                store[business] = BusinessIncident(id: nextIncident, origin: .probes, platforms: platforms, openedAt: at(seconds))
                nextIncident += 1
            case .reopen(_, _, let platforms, _):
                store[business]?.resolvedAt = nil
                store[business]?.platforms = platforms
            case .resolve:
                store[business]?.resolvedAt = at(seconds)
            }
            engine.record(business, incident: store[business])
        }
    }

    /// An operator runs `detour failover start` at `seconds`: a manual incident and the override.
    mutating func failOverByHand(_ business: BusinessID = .rosies, at seconds: Double) {
        store[business] = BusinessIncident(id: nextIncident, origin: .manual, platforms: [], openedAt: at(seconds))
        nextIncident += 1
        overrides.manualFailover.insert(business)
        engine.record(business, incident: store[business])
    }

    /// An operator runs `detour failover stop` at `seconds` while the platforms may still be down.
    mutating func stopByHand(_ business: BusinessID = .rosies, at seconds: Double) {
        store[business]?.resolvedAt = at(seconds)
        overrides.manualFailover.remove(business)
        engine.record(business, incident: store[business])
        engine.suppressUntilClear(business)
    }

    func explain(_ business: BusinessID = .rosies, at seconds: Double) -> String {
        engine.explain(business, statuses: statuses, now: at(seconds))
    }
}

extension EngineDecision {
    /// `open`, `reopen` or `resolve`, for comparing sequences of decisions.
    var kind: String {
        switch self {
        case .open: "open"
        case .reopen: "reopen"
        case .resolve: "resolve"
        }
    }
    var platforms: [PlatformID] {
        switch self {
        case .open(_, let platforms, _), .reopen(_, _, let platforms, _): platforms
        case .resolve: []
        }
    }
}
