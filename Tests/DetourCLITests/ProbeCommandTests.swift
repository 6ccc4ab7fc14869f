import Foundation
import Testing
import TestKit

/// `detour probe` against a platform stand-in and control targets on 127.0.0.1.
@Suite struct ProbeCommandTests {
    private func config(_ dir: TempDir, port: Int) throws -> String {
        try dir.write("detour.yaml", """
        policies: policies
        probes:
          timeout: 2s
        controls:
          - http: http://127.0.0.1:\(port)/control-a
          - http: http://127.0.0.1:\(port)/control-b
        platforms:
          standin:
            name: Platform stand-in
            probes:
              - dns: localhost
              - http: http://127.0.0.1:\(port)/home
                must_not_contain: Sorry, something went wrong
              - http: http://127.0.0.1:\(port)/api
        """)
    }

    private func verdict(_ r: DetourBinary.Result) throws -> (state: String, reason: String) {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)\n\(r.stderr)")
        let p = try #require((json["platforms"] as? [[String: Any]])?.first)
        return (p["state"] as? String ?? "", p["reason"] as? String ?? "")
    }

    @Test func aHealthyStandInIsOperational() throws {
        let dir = try TempDir()
        let server = try HTTPStandIn(routes: ["*": ["status": 200, "body": "welcome"]], in: dir)
        let cfg = try config(dir, port: server.port)
        let r = try DetourBinary.run(["probe", "--config", cfg, "--platform", "standin", "--json"], timeout: 30)
        #expect(r.status == 0)
        #expect(try verdict(r).state == "operational")
    }

    @Test func aFailingStandInIsDownWithTheReasons() throws {
        let dir = try TempDir()
        let server = try HTTPStandIn(routes: ["/home": ["status": 200, "body": "<h1>Sorry, something went wrong</h1>"],
                                             "/api": ["status": 503], "*": ["status": 204]], in: dir)
        let cfg = try config(dir, port: server.port)
        let r = try DetourBinary.run(["probe", "--config", cfg, "--platform", "standin", "--json"], timeout: 30)
        let v = try verdict(r)
        #expect(v.state == "down")
        #expect(v.reason.contains("2 of 3 probes failing"), "\(v.reason)")
        #expect(v.reason.contains("HTTP 503") && v.reason.contains("Sorry, something went wrong"))
    }

    @Test func whenTheControlsFailTooItIsUs() throws {
        let dir = try TempDir()
        let server = try HTTPStandIn(routes: ["*": ["status": 503]], in: dir)
        let cfg = try config(dir, port: server.port)
        let r = try DetourBinary.run(["probe", "--config", cfg, "--platform", "standin"], timeout: 30)
        #expect(r.stdout.contains("standin      UNKNOWN  our own network is down"), "\(r.stdout)")
        #expect(r.stdout.contains("controls     2 of 2 failing: our own network looks down"))
    }

    @Test func anUnknownPlatformIsRefusedWithTheKnownOnes() throws {
        let r = try DetourBinary.run(["probe", "--config", Repo.path("examples/detour.yaml"), "--platform", "myspace"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("unknown platform 'myspace'") && r.stderr.contains("instagram"))
    }
}
