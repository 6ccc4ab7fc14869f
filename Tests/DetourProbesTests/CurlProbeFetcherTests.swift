import DetourCore
import DetourProbes
import DetourTransport
import Foundation
import Logging
import Testing
import TestKit

@Suite(.timeLimit(.minutes(1)))
struct CurlProbeFetcherTests {
    @Test func aProbeRequestIdentifiesItselfWithTheDetourVersionAndNoPlaceholderURL() async throws {
        let dir = try TempDir("probe-user-agent")
        let server = try HTTPStandIn(routes: ["/ok": ["status": 200, "body": "ok"]], in: dir)
        let client = CurlHTTPClient(logger: Logger(label: "test.probe-fetcher"))
        defer { client.shutdown() }

        let outcome = await CurlProbeFetcher(client: client).fetch(ProbeHTTPRequest(url: server.baseURL + "/ok", timeout: .seconds(5)))
        guard case .response(let response) = outcome else { Issue.record("no response: \(outcome)"); return }
        #expect(response.status == 200)
        let seen = server.requests().last { ($0["path"] as? String) == "/ok" }
        #expect((seen?["headers"] as? [String: Any])?["user-agent"] as? String == "detour-probe/\(BuildInfo.version)")
        #expect(BuildInfo.version == "0.1.0")
    }
}
