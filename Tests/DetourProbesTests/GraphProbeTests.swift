import DetourCore
@testable import DetourProbes
import DetourTransport
import Foundation
import Logging
import Testing
import TestKit

/// The `graph` probe against a stand-in that answers as Meta's Graph API does: an answer is up,
/// a 5xx or a service-down code is failing, a rate limit is not an outage, and an expired or
/// revoked token is an operator's problem, never an outage.
@Suite(.timeLimit(.minutes(1)))
struct GraphProbeTests {
    static let object = "106540352242922"
    let dir: TempDir
    let client = CurlHTTPClient(logger: Logger(label: "test.graph", factory: { _ in SwiftLogNoOpLogHandler() }))

    init() throws { dir = try TempDir("graph") }

    func standIn(_ mode: String = "ok") throws -> (LocalServer, String) {
        let file = dir.file("graph-\(UUID().uuidString).json")
        let config: [String: Any] = ["tokens": ["EAAB-good": "valid", "EAAB-old": "expired", "EAAB-gone": "revoked"],
                                     "objects": [Self.object: ["id": Self.object, "verified_name": "Rosie's Salon"]], "mode": mode]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: file))
        return (try LocalServer(script: "graph_server.py", arguments: [file]), file)
    }

    func probe(_ server: LocalServer, token: String = "EAAB-good", fields: String? = "verified_name", timeout: TimeSpan = .seconds(3)) async -> ProbeResult {
        let check = GraphCheck(baseURL: "http://127.0.0.1:\(server.port)", object: Self.object, fields: fields, accessToken: Secret(token, origin: "env:WA_TOKEN"))
        return await GraphProbe(check: check, timeout: timeout, fetcher: CurlProbeFetcher(client: client)).run()
    }

    @Test func anAnswerIsUpAndTheTokenGoesInAHeader() async throws {
        let (server, file) = try standIn()
        let r = await probe(server)
        #expect(r.verdict == .ok && r.credentialProblem == nil && r.probe == "graph \(Self.object)", "\(r)")
        let logged = try String(contentsOfFile: file + ".log", encoding: .utf8)
        #expect(logged.contains("\"path\": \"/\(GraphCheck.defaultVersion)/\(Self.object)\"") && logged.contains("verified_name"))
        #expect(logged.contains("Bearer ***"), "the token went in the Authorization header")
    }

    @Test func aServerErrorOrAServiceDownCodeIsFailing() async throws {
        let (down, _) = try standIn("down")
        let r = await probe(down)
        #expect(r.verdict == .failing && r.detail.contains("HTTP 500 code 2"), "\(r)")
        let (unavailable, _) = try standIn("unavailable")
        #expect(await probe(unavailable).verdict == .failing)
    }

    @Test func aRateLimitIsNotAnOutage() async throws {
        let (server, _) = try standIn("rate")
        let r = await probe(server)
        #expect(r.verdict == .unknown && r.detail.hasPrefix("rate limited, not down") && r.credentialProblem == nil, "\(r)")
    }

    @Test func anExpiredOrRevokedTokenIsAnOperatorsProblemNotAnOutage() async throws {
        let (server, _) = try standIn()
        for token in ["EAAB-old", "EAAB-gone", "EAAB-unknown"] {
            let r = await probe(server, token: token)
            #expect(r.verdict == .unknown && r.credentialProblem == true && r.detail.contains("code 190") && r.detail.contains("not an outage"), "\(r)")
            #expect(!r.detail.contains(token))
        }
    }

    @Test func aWrongObjectOrFieldIsAMistakeToFixNotAnOutage() async throws {
        let (server, _) = try standIn()
        let r = await probe(server, fields: "nonsense")
        #expect(r.verdict == .unknown && r.detail.contains("check the object id and fields") && r.detail.contains("code 100"), "\(r)")
    }

    @Test func noAnswerInTimeIsFailing() async throws {
        let (server, _) = try standIn("hang")
        let r = await probe(server, timeout: .seconds(1))
        #expect(r.verdict == .failing, "\(r)")
    }
}
