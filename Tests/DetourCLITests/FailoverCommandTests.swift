import Foundation
import Testing
import TestKit

/// `detour failover start|stop` against the real daemon.
@Suite(.serialized) struct FailoverCommandTests {
    static func incidentIDs(_ h: DaemonHarness) throws -> [Int] {
        let r = try h.cli(["incidents", "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], "\(r.stdout)\(r.stderr)")
        return list.compactMap { $0["id"] as? Int }.sorted()
    }

    @Test func aStartWithinTheCooldownContinuesTheLastIncidentUnlessNewIncidentIsAsked() throws {
        let h = try DaemonHarness()  // cooldown 1h
        try h.start()
        defer { h.stop() }
        let first = try h.cli(["failover", "start", "--business", "shop", "--reason", "DMs not arriving"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try h.cli(["failover", "stop", "--business", "shop"]).status == 0)
        #expect(try Self.incidentIDs(h).count == 1)

        let again = try h.cli(["failover", "start", "--business", "shop", "--reason", "still not arriving"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.incidentIDs(h).count == 1, "a start within the cooldown continues the last incident")
        #expect(try h.cli(["failover", "stop", "--business", "shop"]).status == 0)

        let fresh = try h.cli(["failover", "start", "--business", "shop", "--new-incident", "--reason", "a different outage"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        let ids = try Self.incidentIDs(h)
        #expect(ids.count == 2, "--new-incident opens a new incident: \(ids)")
        #expect(try h.cli(["failover", "stop", "--business", "shop"]).status == 0)
    }
}
