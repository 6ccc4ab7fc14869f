import struct Foundation.Date

/// One probe round of one platform, as the health tracker receives it: every result of the
/// platform's own probes and status feeds from that round, and when the round ran.
public struct RoundObservation: Sendable, Hashable {
    public var platform: PlatformID
    /// Results of the platform's probes, status feeds included (`corroborating == true`).
    public var results: [ProbeResult]
    /// When the round ran. The tracker never reads a clock; every time it knows comes from here.
    public var at: Date

    public init(platform: PlatformID, results: [ProbeResult], at: Date) {
        self.platform = platform; self.results = results; self.at = at
    }
}

/// A change of a platform's state, with the reason a person can read. What the failover engine
/// acts on and what the transition log keeps.
public struct StatusTransition: Sendable, Hashable, Codable {
    public var platform: PlatformID
    public var from: PlatformState
    public var to: PlatformState
    public var reason: String
    public var at: Date

    public init(platform: PlatformID, from: PlatformState, to: PlatformState, reason: String, at: Date) {
        self.platform = platform; self.from = from; self.to = to; self.reason = reason; self.at = at
    }
}
