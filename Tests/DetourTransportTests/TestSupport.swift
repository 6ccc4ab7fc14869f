import Foundation
import Logging
import Testing
import TestKit
@testable import DetourTransport

/// A logger that drops everything: tests never bootstrap logging.
let quietLogger = Logger(label: "detour.test.transport", factory: { _ in SwiftLogNoOpLogHandler() })


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
