/// A limit on how fast messages go out: on average `messagesPerSecond`, with bursts of up to
/// `burst` messages after a quiet spell.
public struct SMTPRateLimit: Sendable, Equatable {
    public var messagesPerSecond: Double
    public var burst: Int

    public init(messagesPerSecond: Double, burst: Int = 1) {
        self.messagesPerSecond = messagesPerSecond
        self.burst = burst
    }
}

/// A token bucket over an injected clock. Callers that find it empty reserve a future token and
/// sleep until it is due, so waiting callers go out in order at the configured rate.
actor TokenBucket<C: Clock> where C.Duration == Duration {
    private let clock: C
    private let rate: Double
    private let capacity: Double
    private var tokens: Double
    private var updated: C.Instant

    init(_ limit: SMTPRateLimit, clock: C) {
        self.clock = clock
        rate = max(limit.messagesPerSecond, 0.001)
        capacity = Double(max(limit.burst, 1))
        tokens = capacity
        updated = clock.now
    }

    /// Takes one token, sleeping until it is due. Throws `CancellationError` if cancelled while
    /// waiting (the reserved token is then lost, which only slows later callers slightly).
    func take() async throws {
        let now = clock.now
        let elapsed = updated.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(capacity, tokens + seconds * rate)
        updated = now
        tokens -= 1
        if tokens >= 0 { return }
        let wait = -tokens / rate
        try await clock.sleep(until: now.advanced(by: .nanoseconds(Int64(wait * 1e9))), tolerance: nil)
    }
}
