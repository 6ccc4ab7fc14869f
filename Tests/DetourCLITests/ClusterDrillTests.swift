import Foundation
import Testing
import TestKit

/// Three real `detour run` nodes on one PostgreSQL database, each with its own probes, control
/// probes, HTTP port and control socket, and the same policy. The drills of a cluster that votes.
@Suite(.serialized) struct ClusterDrillTests {
    struct Cluster {
        let url: String
        let nodes: [DaemonHarness]
        let names = ["node-a", "node-b", "node-c"]

        init() throws {
            let url = try PostgresTestServer.freshDatabase()
            self.url = url
            nodes = try ["node-a", "node-b", "node-c"].map { try PostgresDaemonTests.node($0, on: url) }
            for node in nodes { try node.start() }
        }

        func stop() { for node in nodes { node.stop() } }
        func node(_ name: String) -> DaemonHarness { nodes[names.firstIndex(of: name)!] }
        var leaderName: String { (try? PostgresTestServer.psql(url, "SELECT node FROM leader")) ?? "" }
        var leader: DaemonHarness? { names.firstIndex(of: leaderName).map { nodes[$0] } }
        func emails() -> [String] { nodes.flatMap { $0.emails().flatMap(\.to) } }
        func incidents() -> String { (try? PostgresTestServer.psql(url, "SELECT count(*) FROM incidents")) ?? "?" }
        /// What the nodes' views say, as the store holds them.
        func views() -> String {
            (try? PostgresTestServer.psql(url, "SELECT string_agg(node || ':' || state || ':' || controls_pass, ' ' ORDER BY node) FROM platform_views WHERE platform = 'acme'")) ?? ""
        }
        func logs() -> String { zip(names, nodes).map { "== \($0.0)\n\($0.1.log().suffix(1500))" }.joined(separator: "\n") }
    }

    /// Drill 4: one node's own network is down (its controls fail, so does everything it probes). It
    /// abstains; the other two see the platform down and the business is failed over, once.
    @Test func aNodeWhoseNetworkIsDownAbstainsAndTheOtherTwoFailOver() throws {
        let c = try Cluster()
        defer { c.stop() }
        #expect(c.nodes[0].wait(15) { c.leader != nil }, "no leader; logs:\n\(c.logs())")
        try c.node("node-c").networkDown()
        try c.node("node-a").platformDown()
        try c.node("node-b").platformDown()
        #expect(c.nodes[0].wait(30) { c.emails().count >= 3 }, "no failover; views: \(c.views())\nlogs:\n\(c.logs())")
        #expect(c.views().contains("node-c:unknown:f"), "\(c.views())")
        Thread.sleep(forTimeInterval: 2)
        #expect(c.emails().sorted() == ["customer1@example.test", "customer2@example.test", "customer3@example.test"])
        #expect(c.incidents() == "1")
        let status = try c.node("node-c").cli(["status", "--json"])
        #expect(status.stdout.contains("node-c abstains: own controls failing"), "\(status.stdout)")
        let text = try c.node("node-b").cli(["status"])
        #expect(text.stdout.contains("VIEWS") && text.stdout.contains("FAIL"), "\(text.stdout)")
    }

    /// Drill 5: only one node of three sees the platform down (its path to it is broken). The vote
    /// says no: nothing is failed over, and every node says why.
    @Test func onlyOneNodeOfThreeSeeingThePlatformDownFailsNothingOver() throws {
        let c = try Cluster()
        defer { c.stop() }
        #expect(c.nodes[0].wait(15) { c.leader != nil }, "no leader; logs:\n\(c.logs())")
        try c.node("node-a").platformDown()
        #expect(c.nodes[0].wait(20) { c.views().contains("node-a:down:t") }, "node-a never saw it down: \(c.views())")
        // Several rounds and ticks with one node of three seeing it down.
        Thread.sleep(forTimeInterval: 5)
        #expect(c.incidents() == "0", "views: \(c.views())\nlogs:\n\(c.logs())")
        #expect(c.emails().isEmpty)
        let leader = try #require(c.leader)
        let status = try leader.cli(["status", "--json"])
        #expect(status.stdout.contains("down for node-a only"), "\(status.stdout)")

        // A second node agrees: now it is down for a quorum, and the business fails over.
        try c.node("node-b").platformDown()
        #expect(c.nodes[0].wait(30) { c.emails().count >= 3 }, "no failover with two of three; views: \(c.views())\nlogs:\n\(c.logs())")
    }

    /// An operator on any node: a manual failover asked on a follower is carried out by the leader,
    /// the CLI says so, the audit log names the node asked, and every node serves the banner soon after.
    @Test func aFailoverAskedOnAFollowerIsCarriedOutAndEveryNodeServesTheBanner() throws {
        let c = try Cluster()
        defer { c.stop() }
        #expect(c.nodes[0].wait(15) { c.leader != nil }, "no leader; logs:\n\(c.logs())")
        let leaderName = c.leaderName
        let followerName = try #require(c.names.first { $0 != leaderName })
        let follower = c.node(followerName)
        #expect(follower.wait(10) { c.nodes.allSatisfy { ($0.servedBanner()?["active"] as? Bool) == false } })

        let start = try follower.cli(["failover", "start", "--business", "shop", "--reason", "asked on a follower"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stdout.contains("done by \(leaderName), the leader") && start.stdout.contains("opened"), "\(start.stdout)")
        let decided = Date()
        #expect(follower.wait(5) { c.nodes.allSatisfy { ($0.servedBanner()?["active"] as? Bool) == true } },
                "not every node serves the banner; logs:\n\(c.logs())")
        let served = Date().timeIntervalSince(decided)
        #expect(served < 2, "every node served the banner \(served) s after the decision")
        let actor = try PostgresTestServer.psql(c.url, "SELECT actor FROM audit WHERE action = 'failover.start'")
        #expect(actor.hasSuffix(" on \(followerName)"), "\(actor)")
        #expect(follower.wait(30) { c.emails().count >= 3 })

        // And the all-clear, asked on the follower too: the banners come down everywhere.
        let stop = try follower.cli(["failover", "stop", "--business", "shop", "--json"])
        #expect(stop.status == 0 && stop.stdout.contains("done by \(leaderName)"), "\(stop.stdout)\(stop.stderr)")
        #expect(follower.wait(5) { c.nodes.allSatisfy { ($0.servedBanner()?["active"] as? Bool) == false } },
                "a node still serves the banner; logs:\n\(c.logs())")
    }
}

/// Drill 6 of the "safe when the database is not": PostgreSQL unreachable for 30 s.
@Suite(.serialized) struct ClusterDatabaseOutageTests {
    /// Both nodes keep serving the banner they know, say what is wrong (`/readyz` 503, `detour
    /// status`), the leader stops deciding when it cannot renew; when the database is back they
    /// reconnect by themselves, a node leads again, and the all-clear goes out.
    @Test func theNodesRideOutThirtySecondsWithoutTheDatabase() throws {
        let server = try PostgresTestServer.dedicated()
        let a = try PostgresDaemonTests.node("node-a", on: server.url), b = try PostgresDaemonTests.node("node-b", on: server.url)
        try a.start()
        defer { a.stop() }
        try b.start()
        defer { b.stop() }
        let nodes = [a, b]
        func logs() -> String { "== a\n\(a.log().suffix(2000))\n== b\n\(b.log().suffix(2000))" }
        func ready(_ h: DaemonHarness) -> (Int, String)? {
            (try? PlainHTTP.get(port: h.httpPort, path: "/readyz")).map { ($0.status, String(decoding: $0.body, as: UTF8.self)) }
        }
        #expect(a.wait(15) { (try? PostgresTestServer.psql(server.url, "SELECT count(*) FROM leader")) == "1" })
        let leaderName = try PostgresTestServer.psql(server.url, "SELECT node FROM leader")
        let leader = leaderName == "node-a" ? a : b
        let start = try leader.cli(["failover", "start", "--business", "shop", "--reason", "drill"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(a.wait(30) { a.emails().count + b.emails().count >= 3 && nodes.allSatisfy { ($0.servedBanner()?["active"] as? Bool) == true } },
                "no failover; logs:\n\(logs())")

        try server.pause()
        let paused = Date()
        #expect(a.wait(15) { nodes.allSatisfy { ready($0)?.0 == 503 && ready($0)?.1.contains("state database") == true } },
                "/readyz does not say the database is gone: \(nodes.map { ready($0).map { "\($0.0) \($0.1)" } ?? "-" })")
        let status = try b.cli(["status"])
        #expect(status.stdout.contains("DATABASE TROUBLE"), "\(status.stdout)\(status.stderr)")
        #expect(nodes.allSatisfy { ($0.servedBanner()?["active"] as? Bool) == true }, "a node stopped serving the banner it knew")
        #expect(leader.wait(40) { leader.log().contains("expired without renewal") }, "the leader kept deciding; log:\n\(leader.log().suffix(2000))")
        Thread.sleep(forTimeInterval: max(0, 30 - Date().timeIntervalSince(paused)))
        #expect(nodes.allSatisfy { ($0.servedBanner()?["active"] as? Bool) == true })

        try server.resume()
        #expect(a.wait(45) { nodes.allSatisfy { ready($0)?.0 == 200 } }, "the nodes did not come back; logs:\n\(logs())")
        #expect(a.wait(15) { ((try? a.cli(["status"]))?.stdout ?? "").contains("leads (term") }, "no node leads again; logs:\n\(logs())")
        let stop = try a.cli(["failover", "stop", "--business", "shop"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(a.wait(30) { a.emails().count + b.emails().count >= 6 && nodes.allSatisfy { ($0.servedBanner()?["active"] as? Bool) == false } },
                "no all-clear after the outage; logs:\n\(logs())")
        #expect(a.emails().count + b.emails().count == 6, "one outage email and one all-clear per customer")
        #expect(a.isRunning && b.isRunning)
    }
}
