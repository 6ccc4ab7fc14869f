import Foundation
import Logging
import Testing
import TestKit
@testable import DetourTransport

/// A logger that drops everything: tests never bootstrap logging.
let quietLogger = Logger(label: "detour.test.transport", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs `body`, failing the test if it takes longer than `limit` (so a hung transfer cannot hang the suite).
func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
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

struct TimeLimitExceeded: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "test step did not finish within \(limit)" }
}

/// Sends `request` and returns the error it must fail with (records an issue if it succeeds).
func expectFailure(_ client: CurlHTTPClient, _ request: HTTPRequest,
                   sourceLocation: SourceLocation = #_sourceLocation) async -> TransportError? {
    do {
        let response = try await client.send(request)
        Issue.record("expected a failure, got status \(response.status)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
