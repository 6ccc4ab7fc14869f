import Foundation

/// The outbox at one moment, in the figures the metrics endpoint publishes: how many deliveries are in
/// each state, how many are being sent under a live lease, and how long due work has been waiting.
public struct OutboxStats: Sendable, Hashable {
    /// How many deliveries are in each state; every state is present, 0 when none is in it.
    public var depth: [DeliveryState: Int]
    /// Deliveries leased to a worker whose lease has not expired: being sent now.
    public var leasesHeld: Int
    /// Seconds since the longest-waiting due delivery (queued, or failed and waiting to be retried, whose
    /// next attempt time has come, and not leased) became due; 0 when nothing is due. It grows when the
    /// workers fall behind or stop.
    public var oldestDueAge: TimeInterval

    public init(depth: [DeliveryState: Int], leasesHeld: Int, oldestDueAge: TimeInterval) {
        self.depth = depth; self.leasesHeld = leasesHeld; self.oldestDueAge = oldestDueAge
    }
}
