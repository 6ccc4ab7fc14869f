import struct Foundation.Date

/// Manual overrides in force, as the engine needs them.
public struct EngineOverrides: Sendable, Hashable {
    /// Businesses failed over by hand (`detour failover start`): never resolved by the probes.
    public var manualFailover: Set<BusinessID>
    /// Businesses on hold (maintenance window) until the given time (nil: until released).
    public var holds: [BusinessID: Date?]

    public init(manualFailover: Set<BusinessID> = [], holds: [BusinessID: Date?] = [:]) {
        self.manualFailover = manualFailover; self.holds = holds
    }

    /// The hold on `business` still in force at `now`: `.some(nil)` until released, `.some(date)` until then,
    /// nil when there is none or it has expired.
    public func hold(on business: BusinessID, at now: Date) -> Date?? {
        guard let hold = holds[business] else { return nil }
        if let until = hold, until <= now { return nil }
        return .some(hold)
    }

    /// True when `business` is on a hold that has not expired at `now`.
    public func isHeld(_ business: BusinessID, at now: Date) -> Bool {
        hold(on: business, at: now) != nil
    }
}
