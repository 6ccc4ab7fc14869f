/// How the daemon's banner event streams (`/banner/BUSINESS/events`) behave: how many may be open,
/// how often they say they are alive, and how long one lasts before the browser reconnects.
public struct BannerStreamSettings: Sendable {
    /// Open streams allowed per business. Past it a page is answered 503 and polls `banner.json` instead.
    public var maxStreamsPerBusiness: Int
    /// How often a comment line is sent on a quiet stream, so proxies and load balancers keep it open
    /// and a page that went away is noticed (the write fails).
    public var heartbeat: Duration
    /// The `retry:` hint: how long a browser waits before it reconnects a dropped stream.
    public var retry: Duration
    /// A stream ends after at most this long (minus up to a tenth, so streams opened together do not
    /// all reconnect together); the browser reconnects after `retry` and is sent only what changed.
    public var maxDuration: Duration
    /// The clock heartbeats and `maxDuration` are measured with.
    public var clock: any Clock<Duration>

    public init(maxStreamsPerBusiness: Int = 1_000, heartbeat: Duration = .seconds(15), retry: Duration = .seconds(5),
                maxDuration: Duration = .seconds(10 * 60), clock: any Clock<Duration> = ContinuousClock()) {
        self.maxStreamsPerBusiness = maxStreamsPerBusiness
        self.heartbeat = heartbeat
        self.retry = retry
        self.maxDuration = maxDuration
        self.clock = clock
    }
}
