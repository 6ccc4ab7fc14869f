import Foundation
import Testing
import TestKit

/// The real `detour run` as a subprocess against real local servers: a platform stand-in, an SMTP
/// server, a webhook receiver. Each test stops by itself within bounded time.
@Suite(.serialized) struct DaemonEndToEndTests {
    @Test func aPlatformOutageFailsOverAndItsRecoverySendsTheAllClear() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        try h.platformDown()

        #expect(h.wait(30) { h.emails().count >= 3 && !h.webhooks().isEmpty && (h.servedBanner()?["active"] as? Bool) == true },
                "no failover within 30 s; log:\n\(h.log().suffix(3000))")
        let outage = h.emails()
        #expect(Set(outage.flatMap(\.to)) == ["customer1@example.test", "customer2@example.test", "customer3@example.test"])
        #expect(outage.allSatisfy { $0.raw.contains("Acme is down") })
        #expect(Set(outage.compactMap { DaemonHarness.header("Message-ID", in: $0.raw) }).count == 3)
        #expect(outage.allSatisfy { DaemonHarness.header("List-Unsubscribe-Post", in: $0.raw) == "List-Unsubscribe=One-Click" })
        let hook = try #require(h.webhooks().first)
        #expect(try verifiesStandardWebhook(hook, secret: DaemonHarness.webhookSecret))
        #expect(((hook["body"] as? String) ?? "").contains("detour.incident.opened"))
        #expect((h.publishedBanner()?["active"] as? Bool) == true)

        try h.platformUp()
        #expect(h.wait(30) { h.emails().count >= 6 && h.webhooks().count >= 2 && (h.servedBanner()?["active"] as? Bool) == false },
                "no all-clear within 30 s; log:\n\(h.log().suffix(3000))")
        let allClear = h.emails().dropFirst(3)
        #expect(allClear.allSatisfy { $0.raw.contains("Acme is back") })
        #expect(((h.webhooks().last?["body"] as? String) ?? "").contains("detour.incident.resolved"))
        #expect((h.publishedBanner()?["active"] as? Bool) == false)

        let incidents = try h.cli(["incidents", "--json"])
        #expect(incidents.status == 0)
        #expect(incidents.stdout.contains("\"state\" : \"resolved\""))
        #expect(h.emails().count == 6, "exactly one outage email and one all-clear per customer")
    }

    @Test func whenTheControlProbesFailTooTheStatusIsUnknownAndNobodyHearsAnything() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        try h.networkDown()
        #expect(h.wait(20) { ((try? h.cli(["status", "--json"]))?.stdout ?? "").contains("\"state\" : \"unknown\"") })
        Thread.sleep(forTimeInterval: 4) // longer than thresholds + grace
        #expect(h.emails().isEmpty)
        #expect(h.webhooks().isEmpty)
        #expect((h.servedBanner()?["active"] as? Bool) != true)
        let incidents = try h.cli(["incidents", "--json"])
        #expect(incidents.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || incidents.stdout.contains("[]") || !incidents.stdout.contains("\"id\""))
    }

    @Test func aManualFailoverFiresWithHealthyProbesAndStopSendsTheAllClear() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        let start = try h.cli(["failover", "start", "--business", "shop", "--reason", "DMs not arriving"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stdout.contains("opened"))
        #expect(h.wait(20) { h.emails().count >= 3 && !h.webhooks().isEmpty && (h.servedBanner()?["active"] as? Bool) == true })
        // Healthy probes do not end a manual failover.
        Thread.sleep(forTimeInterval: 3)
        #expect(h.emails().count == 3)
        let status = try h.cli(["status"])
        #expect(status.stdout.contains("by hand: uid \(getuid())"), "\(status.stdout)")

        let stop = try h.cli(["failover", "stop", "--business", "shop"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(h.wait(20) { h.emails().count >= 6 && (h.servedBanner()?["active"] as? Bool) == false })
        let again = try h.cli(["failover", "stop", "--business", "shop"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("no open incident"))
    }

    @Test func aBrokenPolicyOnSIGHUPKeepsTheRunningConfigurationAndAFixedOneIsApplied() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        let pid = try #require(h.process?.processIdentifier)
        try h.dir.write("policies/shop.yaml", "business: shop\nname: [unclosed\n")
        kill(pid, SIGHUP)
        #expect(h.wait(15) { ((try? h.cli(["status"]))?.stdout ?? "").contains("REFUSED") })
        let status = try h.cli(["status"]).stdout
        #expect(status.contains("shop.yaml"), "the error names the file: \(status)")

        // The old policy still works.
        let start = try h.cli(["failover", "start", "--business", "shop", "--reason", "check the old policy"])
        #expect(start.status == 0)
        #expect(h.wait(20) { h.emails().count >= 3 })
        #expect(h.emails().allSatisfy { $0.raw.contains("Acme is down") })
        #expect(try h.cli(["failover", "stop", "--business", "shop"]).status == 0)
        #expect(h.wait(20) { h.emails().count >= 6 })

        try h.writePolicy(message: "New text from the fixed policy.")
        let reload = try h.cli(["reload"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(reload.stdout.contains("1 changed"))
        #expect(try h.cli(["failover", "start", "--business", "shop", "--reason", "check the new policy", "--new-incident"]).status == 0)
        #expect(h.wait(20) { h.emails().contains { $0.raw.contains("New text from the fixed policy") } })
    }

    @Test func sigtermMidFanOutExitsCleanlyAndTheRestIsDeliveredAfterARestart() throws {
        var o = DaemonHarness.Options()
        o.recipients = 400
        o.emailConcurrency = 2
        o.smtpConnections = 2
        let h = try DaemonHarness(o)
        try h.start()
        #expect(try h.cli(["failover", "start", "--business", "shop", "--reason", "drill"]).status == 0)
        #expect(h.wait(30) { h.emails().count >= 20 })
        let status = h.stop(SIGTERM)
        #expect(status == 0, "exit status after SIGTERM; log:\n\(h.log().suffix(2000))")
        let before = h.emails().count
        #expect(h.log().contains("shutting down"))

        try h.start()
        defer { h.stop() }
        #expect(h.wait(60) { Set(h.emails().flatMap(\.to)).count >= 400 }, "only \(Set(h.emails().flatMap(\.to)).count) of 400 after restart (\(before) before)")
        let ids = h.emails().compactMap { DaemonHarness.header("Message-ID", in: $0.raw) }
        #expect(Set(ids).count == 400)
        #expect(ids.count - Set(ids).count <= 2, "duplicates are bounded by the concurrency")
    }
}

/// Checks a received `standard` webhook as a receiver would.
func verifiesStandardWebhook(_ request: [String: Any], secret: String) throws -> Bool {
    try WebhookVerifier.verify(headers: request["headers"] as? [String: String] ?? [:],
                               body: (request["body"] as? String) ?? "", secret: secret)
}
