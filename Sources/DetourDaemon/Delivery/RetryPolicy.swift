import DetourCore
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
}
