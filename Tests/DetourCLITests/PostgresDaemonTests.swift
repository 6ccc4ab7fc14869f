import Foundation
import Testing
import TestKit

/// The real `detour run` on a real PostgreSQL server (the suite's throwaway one; a database of
/// its own per test): `state: postgres://…` selects the PostgreSQL store.
@Suite(.serialized) struct PostgresDaemonTests {
    /// A daemon as a node of a cluster on the database at `url`, with a short leader lease.
    static func node(_ name: String, on url: String) throws -> DaemonHarness {
        var options = DaemonHarness.Options()
        options.state = url
        options.extraConfig = "node:\n  name: \(name)\n  leader_lease: 3s"
        return try DaemonHarness(options)
    }

    @Test func aFailoverAndItsAllClearRunOnPostgreSQL() throws {
        let url = try PostgresTestServer.freshDatabase()
        var options = DaemonHarness.Options()
        options.state = url
        let h = try DaemonHarness(options)
        try h.start()
        defer { h.stop() }
        try h.platformDown()
        #expect(h.wait(30) { h.emails().count >= 3 && !h.webhooks().isEmpty && (h.servedBanner()?["active"] as? Bool) == true },
                "no failover within 30 s; log:\n\(h.log().suffix(3000))")
        try h.platformUp()
        #expect(h.wait(30) { h.emails().count >= 6 && (h.servedBanner()?["active"] as? Bool) == false },
                "no all-clear within 30 s; log:\n\(h.log().suffix(3000))")
        #expect(h.emails().count == 6, "exactly one outage email and one all-clear per customer")

        // What the CLI lists comes from PostgreSQL, and so does what a node signs links with.
        let incidents = try h.cli(["incidents", "--json"])
        #expect(incidents.status == 0 && incidents.stdout.contains("\"state\" : \"resolved\""), "\(incidents.stderr)")
        #expect(try PostgresTestServer.psql(url, "SELECT state FROM incidents") == "resolved")
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM deliveries WHERE channel = 'email' AND state = 'sent'") == "6")
        #expect(try PostgresTestServer.psql(url, "SELECT name || ':' || length(key) FROM shared_keys") == "unsubscribe:32")
        #expect(!FileManager.default.fileExists(atPath: h.dir.file("state/detour.sqlite")))
        #expect(!FileManager.default.fileExists(atPath: h.dir.file("state/unsubscribe.key")))
    }

    @Test func aPasswordInTheURLIsAnErrorAtItsLineAndIsNeverPrinted() throws {
        var options = DaemonHarness.Options()
        options.state = "postgres://detour:hunter2-canary@127.0.0.1:1/detour"
        let h = try DaemonHarness(options)
        try h.writeConfig()
        try h.writePolicy()
        let run = try DetourBinary.run(["run", "--config", h.configPath], timeout: 30)
        #expect(run.status != 0)
        #expect(run.stderr.contains("detour.yaml:1:") && run.stderr.contains("password in it"), "\(run.stderr)")
        #expect(!run.stderr.contains("hunter2-canary") && !run.stdout.contains("hunter2-canary"))
    }

    @Test func aServerThatIsNotThereStopsTheStartWithTheURLAndNoPassword() throws {
        let port = try FreePort.next()
        var options = DaemonHarness.Options()
        options.state = "{url: \"postgres://detour@127.0.0.1:\(port)/detour?sslmode=disable\", password: env:DETOUR_TEST_PG_PASSWORD}"
        let h = try DaemonHarness(options)
        try h.writeConfig()
        try h.writePolicy()
        let run = try DetourBinary.run(["run", "--config", h.configPath], environment: ["DETOUR_TEST_PG_PASSWORD": "pw-canary-77"],
                                       timeout: 45)
        #expect(run.status != 0)
        #expect(run.stderr.contains("postgres://detour@127.0.0.1:\(port)/detour"), "\(run.stderr)")
        #expect(run.stderr.contains("cannot connect"), "\(run.stderr)")
        #expect(!run.stderr.contains("pw-canary-77"))
    }

    /// Two daemons on one database: one leads and decides, both deliver, each customer gets each
    /// email once; an operator's change on the follower is carried out by the leader; when the
    /// leader is killed, the other takes over and sends the all-clear.
    @Test func twoNodesOnOneDatabaseShareTheWorkAndTheSurvivorTakesOver() throws {
        let url = try PostgresTestServer.freshDatabase()
        let a = try Self.node("node-a", on: url), b = try Self.node("node-b", on: url)
        try a.start()
        defer { a.stop() }
        try b.start()
        defer { b.stop() }
        func leader() -> String { (try? PostgresTestServer.psql(url, "SELECT node || ' ' || term FROM leader")) ?? "" }
        #expect(a.wait(15) { ["node-a 1", "node-b 1"].contains(leader()) }, "no leader; a:\n\(a.log().suffix(2000))")
        let leading = leader().hasPrefix("node-a") ? a : b
        let following = leading === a ? b : a
        let followerName = leading === a ? "node-b" : "node-a"
        let leaderName = leading === a ? "node-a" : "node-b"

        // Both nodes say who leads.
        #expect(leading.wait(10) { ((try? following.cli(["status"]))?.stdout ?? "").contains("this node: \(followerName), following; \(leaderName) leads (term 1") })
        let status = try leading.cli(["status", "--json"])
        #expect(status.stdout.contains("\"leads\" : true") && status.stdout.contains("\"name\" : \"\(followerName)\""), "\(status.stdout)")

        // A change asked on the follower is carried out by the leader, and the audit log names the node asked.
        let hold = try following.cli(["hold", "--business", "shop", "--for", "1h", "--reason", "asked on the follower"])
        #expect(hold.status == 0 && hold.stdout.contains("done by \(leaderName), the leader"), "\(hold.stdout)\(hold.stderr)")
        #expect(try PostgresTestServer.psql(url, "SELECT actor FROM audit WHERE action = 'hold.set'").hasSuffix("on \(followerName)"))
        let release = try following.cli(["release", "--business", "shop"])
        #expect(release.status == 0, "\(release.stderr)")
        let again = try following.cli(["release", "--business", "shop"])
        #expect(again.status != 0 && again.stderr.contains("refused it") && again.stderr.contains("not on hold"), "\(again.stderr)")

        try a.platformDown()
        try b.platformDown()
        func emails() -> [String] { (a.emails() + b.emails()).flatMap(\.to) }
        #expect(a.wait(30) { emails().count >= 3 }, "no failover; leader log:\n\(leading.log().suffix(3000))")
        Thread.sleep(forTimeInterval: 2)
        #expect(emails().sorted() == ["customer1@example.test", "customer2@example.test", "customer3@example.test"])
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM incidents") == "1")

        // The leader dies; the follower takes the lease (term 2) and, the platform being back, resolves.
        _ = leading.stop(SIGKILL)
        #expect(following.wait(15) { leader() == "\(followerName) 2" }, "no takeover; log:\n\(following.log().suffix(3000))")
        try following.platformUp()
        #expect(following.wait(30) { (try? PostgresTestServer.psql(url, "SELECT state FROM incidents")) == "resolved" },
                "no all-clear; log:\n\(following.log().suffix(3000))")
        #expect(following.wait(20) { emails().count >= 6 })
        #expect(emails().count == 6, "one outage email and one all-clear per customer")
    }

    /// A leader frozen past its lease (SIGSTOP) while the platform recovers: the other node takes
    /// over and sends the all-clear; the frozen one, thawed, finds it has lost, steps down and writes
    /// nothing. Each customer gets one email of each kind; the incident has exactly two events.
    @Test func aLeaderFrozenPastItsLeaseStepsDownAndWritesNothing() throws {
        let url = try PostgresTestServer.freshDatabase()
        let a = try Self.node("node-a", on: url), b = try Self.node("node-b", on: url)
        try a.start()
        defer { a.stop() }
        #expect(a.wait(15) { (try? PostgresTestServer.psql(url, "SELECT node FROM leader")) == "node-a" })
        try b.start()
        defer { b.stop() }
        try a.platformDown()
        try b.platformDown()
        func emails() -> [String] { (a.emails() + b.emails()).flatMap(\.to) }
        #expect(a.wait(30) { emails().count >= 3 }, "no failover; log:\n\(a.log().suffix(3000))")

        let pid = try #require(a.pid)
        kill(pid, SIGSTOP)
        #expect(b.wait(15) { (try? PostgresTestServer.psql(url, "SELECT node || ' ' || term FROM leader")) == "node-b 2" },
                "no takeover; log:\n\(b.log().suffix(3000))")
        try a.platformUp()
        try b.platformUp()
        #expect(b.wait(30) { (try? PostgresTestServer.psql(url, "SELECT state FROM incidents")) == "resolved" },
                "no all-clear; log:\n\(b.log().suffix(3000))")
        kill(pid, SIGCONT)
        #expect(a.wait(15) { a.log().contains("lost the leader lease") || a.log().contains("no longer leads") },
                "the thawed leader did not step down; log:\n\(a.log().suffix(3000))")
        Thread.sleep(forTimeInterval: 3)
        #expect(try PostgresTestServer.psql(url, "SELECT event_sequence FROM incidents") == "2", "opened once, resolved once")
        #expect(try PostgresTestServer.psql(url, "SELECT node FROM leader") == "node-b")
        #expect(b.wait(20) { emails().count >= 6 })
        #expect(emails().count == 6, "one outage email and one all-clear per customer")
    }

    /// A one-machine install moves to PostgreSQL with `detour store copy`, and the daemon carries on
    /// there: the open incident, its Message-IDs' install id and the unsubscribe key come along; a
    /// second copy into the same database is refused.
    @Test func storeCopyMovesAnInstallToPostgreSQLAndTheDaemonCarriesOn() throws {
        let h = try DaemonHarness()
        try h.start()
        let start = try h.cli(["failover", "start", "--business", "shop", "--reason", "before the move"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(h.wait(30) { h.emails().count >= 3 }, "no emails; log:\n\(h.log().suffix(2000))")
        #expect(h.stop() == 0)
        let before = h.emails().compactMap { DaemonHarness.header("Message-ID", in: $0.raw) }

        let url = try PostgresTestServer.freshDatabase()
        let statePath = h.dir.file("state/detour.sqlite")
        let copy = try DetourBinary.run(["store", "copy", "--from", statePath, "--to", url, "--json"])
        #expect(copy.status == 0, "\(copy.stderr)")
        // Three emails, the banner and the webhook of the opened incident.
        #expect(copy.stdout.contains("\"deliveries\" : 5") && copy.stdout.contains("\"incidents\" : 1"), "\(copy.stdout)")
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM deliveries WHERE state = 'sent'") == "5")
        #expect(try PostgresTestServer.psql(url, "SELECT state FROM incidents") == "open")
        #expect(try PostgresTestServer.psql(url, "SELECT length(key) FROM shared_keys WHERE name = 'unsubscribe'") == "32")
        let again = try DetourBinary.run(["store", "copy", "--from", statePath, "--to", url])
        #expect(again.status != 0 && again.stderr.contains("already holds Detour data"), "\(again.stderr)")

        // The same install, now on PostgreSQL: the all-clear goes out with the same install id.
        var options = DaemonHarness.Options()
        options.state = url
        let moved = try DaemonHarness(options)
        try moved.start()
        defer { moved.stop() }
        #expect(moved.wait(15) { (try? PostgresTestServer.psql(url, "SELECT count(*) FROM leader")) == "1" })
        #expect(moved.wait(15) { ((try? moved.cli(["status"]))?.stdout ?? "").contains("leading") })
        let stop = try moved.cli(["failover", "stop", "--business", "shop"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(moved.wait(30) { moved.emails().count >= 3 }, "no all-clear; log:\n\(moved.log().suffix(2000))")
        let after = moved.emails().compactMap { DaemonHarness.header("Message-ID", in: $0.raw) }
        let install = { (id: String) in id.split(separator: "-").dropFirst().first.map(String.init) }
        #expect(Set(before.compactMap(install)) == Set(after.compactMap(install)), "\(before) vs \(after)")
        #expect(Set(before).isDisjoint(with: after))
    }

    /// Drill: PostgreSQL restarts (an immediate stop, as a crash) in the middle of a fan-out. The
    /// daemon reconnects by itself and finishes: every customer gets the email, none is lost, and
    /// only what was in flight may come twice.
    @Test func aDatabaseRestartMidFanOutLosesNothing() throws {
        let server = try PostgresTestServer.dedicated()
        var options = DaemonHarness.Options()
        options.state = server.url
        options.recipients = 1500
        let h = try DaemonHarness(options)
        try h.start()
        defer { h.stop() }
        let start = try h.cli(["failover", "start", "--business", "shop", "--reason", "drill"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(h.wait(30) { h.emails().count >= 100 }, "the fan-out did not start; log:\n\(h.log().suffix(2000))")
        try server.restart()
        let everyone = Set((1...1500).map { "customer\($0)@example.test" })
        #expect(h.wait(90) { Set(h.emails().flatMap(\.to)) == everyone },
                "not every customer got the email after the restart (\(Set(h.emails().flatMap(\.to)).count) of 1500); log:\n\(h.log().suffix(3000))")
        // An outcome write caught by the restart is answered at its 30 s deadline and retried.
        #expect(h.wait(75) { (try? PostgresTestServer.psql(server.url, "SELECT count(*) FROM deliveries WHERE channel = 'email' AND state <> 'sent'")) == "0" },
                "\((try? PostgresTestServer.psql(server.url, "SELECT state || ' ' || count(*) || ' ' || coalesce(max(last_error), '') FROM deliveries GROUP BY state")) ?? "")\nlog:\n\(h.log().split(separator: "\n").filter { !$0.contains(" debug ") }.suffix(30).joined(separator: "\n"))")
        let duplicates = h.emails().count - Set(h.emails().flatMap(\.to)).count
        #expect(duplicates <= 4 * 16, "at most what was in flight is sent twice (\(duplicates))")
        #expect(h.isRunning, "the daemon kept running through the restart")
    }
}
