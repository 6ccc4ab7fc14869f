/// A `StatusTransitionLog` held in memory: the newest `capacity` transitions, forgotten at exit.
/// For tests and for running without a store.
public actor InMemoryStatusTransitionLog: StatusTransitionLog {
    /// Oldest first.
    private var transitions: [StatusTransition] = []
    public let capacity: Int

    /// Keeps at most `capacity` transitions (at least one), dropping the oldest.
    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
    }

    public func record(_ transition: StatusTransition) {
        transitions.append(transition)
        if transitions.count > capacity {
            transitions.removeFirst(transitions.count - capacity)
        }
    }

    public func recent(platform: PlatformID?, limit: Int) -> [StatusTransition] {
        guard limit > 0 else { return [] }
        return Array(transitions.reversed().lazy.filter { platform == nil || $0.platform == platform }.prefix(limit))
    }
}
