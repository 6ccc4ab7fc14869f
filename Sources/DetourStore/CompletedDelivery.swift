/// How one leased delivery's attempt went, to be recorded with others in one transaction
/// (`Store.complete(_:owner:now:)`).
public struct CompletedDelivery: Sendable, Hashable {
    /// The delivery's id.
    public var id: Int64
    public var outcome: DeliveryOutcome

    public init(id: Int64, outcome: DeliveryOutcome) {
        self.id = id; self.outcome = outcome
    }
}
