import struct Foundation.Date

/// The result of running one probe once.
public struct ProbeResult: Sendable, Hashable, Codable {
    public enum Verdict: String, Sendable, Hashable, Codable, CaseIterable {
        /// Healthy.
        case ok
        /// Answered correctly but slower than its latency limit, or a feed reports minor trouble.
        case slow
        /// The check failed: no answer, wrong answer, error keyword, feed says major outage.
        case failing
        /// We could not tell (a feed that cannot be fetched or parsed, a service missing from a feed).
        case unknown
    }

    /// The probe's label (`dns www.instagram.com`).
    public var probe: String
    public var verdict: Verdict
    /// What a person needs to read: `NXDOMAIN`, `timed out after 10s`, `HTTP 503`, `body contains "Sorry…"`.
    public var detail: String
    /// True when the probe is a status feed: corroboration only.
    public var corroborating: Bool
    public var observedAt: Date
    /// Phase timings where the probe has them.
    public var timings: PhaseTimings?
    /// Something for an operator to fix, never an outage: it never moves a platform down.
    public enum Notice: String, Sendable, Hashable, Codable {
        /// The probe's own credentials were refused (an expired or revoked token).
        case tokenRefused
        /// A status feed does not publish the component the probe names.
        case notInFeed
    }
    public var notice: Notice?
    /// True when the probe's own credentials were refused; nil otherwise.
    public var credentialProblem: Bool? { notice == .tokenRefused ? true : nil }

    public init(probe: String, verdict: Verdict, detail: String, corroborating: Bool = false,
                observedAt: Date, timings: PhaseTimings? = nil) {
        self.probe = probe; self.verdict = verdict; self.detail = detail; self.corroborating = corroborating
        self.observedAt = observedAt; self.timings = timings
    }
}

/// Where the time of one request went, in seconds from its start (as curl reports them).
public struct PhaseTimings: Sendable, Hashable, Codable {
    public var dns: Double
    public var connect: Double
    public var tls: Double
    public var firstByte: Double
    public var total: Double
    public init(dns: Double, connect: Double, tls: Double, firstByte: Double, total: Double) {
        self.dns = dns; self.connect = connect; self.tls = tls; self.firstByte = firstByte; self.total = total
    }
}

/// What Detour believes about a platform.
public enum PlatformState: String, Sendable, Hashable, Codable, CaseIterable {
    case operational, degraded, down
    /// We cannot tell: our own network is down. Never opens and never resolves a failover.
    case unknown
}

/// A platform's state with the reason a person can read and the time it took that state.
public struct PlatformStatus: Sendable, Hashable, Codable {
    public var platform: PlatformID
    public var state: PlatformState
    public var reason: String
    public var since: Date
    public init(platform: PlatformID, state: PlatformState, reason: String, since: Date) {
        self.platform = platform; self.state = state; self.reason = reason; self.since = since
    }
}
