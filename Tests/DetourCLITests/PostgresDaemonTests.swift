import Foundation
import Testing
import TestKit

/// The real `detour run` on a real PostgreSQL server (the suite's throwaway one; a database of
/// its own per test): `state: postgres://…` selects the PostgreSQL store.
@Suite(.serialized) struct PostgresDaemonTests {
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
}
