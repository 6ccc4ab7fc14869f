/// Runs `body`, failing if it takes longer than `limit`, so a hung step cannot hang the suite.
public func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TimeLimitExceeded(limit: limit)
        }
        group.cancelAll()
        return value
    }
}

/// The error `within` throws when its limit passes.
public struct TimeLimitExceeded: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "test step did not finish within \(limit)" }
}
