import Foundation

/// When a failed delivery is tried again, and when it is given up.
public struct RetryPolicy: Sendable {
    public var settings: DeliverySettings
    /// Returns a number in 0..<1; injected so tests are repeatable.
    public var random: @Sendable () -> Double

    public init(settings: DeliverySettings, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.settings = settings; self.random = random
    }

    /// The time of the next attempt after `attempts` failed ones, or nil when the delivery is dead.
    /// Exponential backoff with "equal jitter" (half fixed, half random), never sooner than Retry-After.
    public func nextAttempt(attempts: Int, createdAt: Date, now: Date, retryAfter: Duration?) -> Date? {
        guard attempts < settings.maxAttempts else { return nil }
        let base = max(0.001, settings.initialBackoff.seconds)
        let cap = max(base, settings.maxBackoff.seconds)
        let exponential = min(cap, base * pow(2, Double(max(0, attempts - 1))))
        var wait = exponential / 2 + exponential / 2 * random()
        if let retryAfter {
            let asked = Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18
            wait = max(wait, asked)
        }
        let at = now.addingTimeInterval(wait)
        guard at.timeIntervalSince(createdAt) <= settings.maxAge.seconds else { return nil }
        return at
    }

    /// What becomes of a delivery whose attempt number `attempts` just failed.
    public enum Verdict: Sendable, Hashable {
        /// Try again at this time.
        case retry(at: Date)
        /// Give up; the reason prefixes the last error ("gave up after 3 attempts").
        case giveUp(reason: String?)
    }

    /// A permanent failure is given up at once; a temporary one is retried until `maxAttempts` or `maxAge`.
    public func verdict(retryable: Bool, attempts: Int, createdAt: Date, now: Date, retryAfter: Duration?) -> Verdict {
        guard retryable else { return .giveUp(reason: nil) }
        if let at = nextAttempt(attempts: attempts, createdAt: createdAt, now: now, retryAfter: retryAfter) { return .retry(at: at) }
        return .giveUp(reason: "gave up after \(attempts) attempt\(attempts == 1 ? "" : "s")")
    }
}
