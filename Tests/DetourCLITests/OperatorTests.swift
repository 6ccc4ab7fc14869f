import Foundation
import Testing
import TestKit

/// What an on-call operator relies on, against the real `detour run`: metrics that are current on
/// their own, a reload that never freezes the daemon, ids that never repeat, no repeat emails from a
/// manual start, and status that shows what was switched off.
@Suite(.serialized) struct OperatorTests {
    private func metrics(_ h: DaemonHarness) -> String {
        guard let r = try? PlainHTTP.get(port: h.httpPort, path: "/metrics"), r.status == 200 else { return "" }
        return String(decoding: r.body, as: UTF8.self)
    }

    private func value(_ line: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func withEveryPlatformUnknownMetricsStillHaveASeriesForItAndPassPromtool() throws {
        let h = try DaemonHarness()
        try h.networkDown()
        try h.start()
        defer { h.stop() }
        Thread.sleep(forTimeInterval: 3)  // rounds run: controls fail, so the platform stays unknown
        let text = metrics(h)
        #expect(value("detour_platform_state{platform=\"acme\",state=\"unknown\"}", in: text) == 1, "\(text)")
        #expect(text.contains("detour_build_info{version=\""))
        #expect((value("process_resident_memory_bytes", in: text) ?? 0) > 1_000_000)
        #expect((value("process_open_fds", in: text) ?? 0) > 3)
        #expect(value("detour_delivery_leases_held", in: text) == 0)
        #expect(value("detour_oldest_due_delivery_age_seconds", in: text) == 0)
        let file = h.dir.file("metrics.txt")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let promtool = Process()
        promtool.executableURL = URL(fileURLWithPath: "/bin/sh")
        promtool.arguments = ["-c", "promtool check metrics < '\(file)' 2>&1"]
        let out = Pipe()
        promtool.standardOutput = out
        try promtool.run()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        promtool.waitUntilExit()
        #expect(promtool.terminationStatus == 0, "promtool check metrics (scripts/setup.sh installs it): \(said)")
    }

    @Test func queueDepthIsCurrentWithoutAnyoneRunningStatus() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        let start = try h.cli(["failover", "start", "--business", "shop", "--reason", "queue depth"])
        #expect(start.status == 0, "\(start.stderr)")
        // 3 emails, the banner and one webhook; nobody asks for `detour status`.
        #expect(h.wait(20) { value("detour_queue_depth{state=\"sent\"}", in: metrics(h)) == 5 }, "\(metrics(h))")
        #expect(value("detour_queue_depth{state=\"queued\"}", in: metrics(h)) == 0)
    }

    @Test func aReloadWithAnAudienceThatIsAFIFOIsRefusedAtOnceAndTheDaemonKeepsWorking() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        let fifo = h.dir.file("audience.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let policy = h.dir.file("policies/shop.yaml")
        let text = try String(contentsOfFile: policy, encoding: .utf8)
        try text.replacingOccurrences(of: "../audience.csv", with: "../audience.fifo").write(toFile: policy, atomically: true, encoding: .utf8)

        let started = Date()
        let reload = try h.cli(["reload"], timeout: 20)
        #expect(reload.status != 0)
        #expect(reload.stderr.contains("FIFO"), "\(reload.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
        let check = try h.cli(["policy", "check"], timeout: 20)
        #expect(check.status == 1 && check.stderr.contains("FIFO"), "\(check.stderr)")
        // The daemon still decides, delivers and answers.
        try h.platformDown()
        #expect(h.wait(30) { h.emails().count >= 3 }, "no failover after the refused reload; log:\n\(h.log().suffix(3000))")
        let status = try h.cli(["status"], timeout: 10)
        #expect(status.status == 0)
        let health = try PlainHTTP.get(port: h.httpPort, path: "/healthz")
        #expect(health.status == 200)
    }

    @Test func messageIDsAreNotReusedByANewStateFile() throws {
        let h = try DaemonHarness()
        try h.start()
        _ = try h.cli(["failover", "start", "--business", "shop", "--reason", "first"])
        #expect(h.wait(20) { h.emails().count >= 3 })
        h.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: h.dir.file("state/detour.sqlite" + suffix)) }
        try h.writePolicy(message: "A different notice.")
        try h.start()
        defer { h.stop() }
        _ = try h.cli(["failover", "start", "--business", "shop", "--reason", "second"])
        #expect(h.wait(20) { h.emails().count >= 6 })
        let ids = h.emails().compactMap { DaemonHarness.header("Message-ID", in: $0.raw) }
        #expect(ids.count == 6)
        #expect(Set(ids).count == 6, "Message-IDs repeat across state files: \(ids)")
    }

    @Test func aManualStartWithinTheCooldownContinuesTheLastIncident() throws {
        var options = DaemonHarness.Options()
        options.cooldown = "1h"
        let h = try DaemonHarness(options)
        try h.start()
        defer { h.stop() }
        try h.platformDown()
        #expect(h.wait(30) { h.emails().count >= 3 })
        try h.platformUp()
        #expect(h.wait(30) { h.emails().count >= 6 && (h.servedBanner()?["active"] as? Bool) == false }, "\(h.log().suffix(2000))")

        let start = try h.cli(["failover", "start", "--business", "shop", "--reason", "still broken"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stdout.contains("reopened"), "\(start.stdout)")
        #expect(h.wait(10) { (h.servedBanner()?["active"] as? Bool) == true }, "\(h.log().suffix(4000))")
        Thread.sleep(forTimeInterval: 2)
        #expect(h.emails().count == 6, "customers were emailed again past max_per_customer (2)")
        let incidents = try h.cli(["incidents", "--json"])
        #expect(incidents.stdout.components(separatedBy: "\"id\" :").count - 1 == 1, "\(incidents.stdout)")

        _ = try h.cli(["failover", "stop", "--business", "shop"])
        let fresh = try h.cli(["failover", "start", "--business", "shop", "--reason", "really new", "--new-incident"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(h.wait(20) { h.emails().count >= 9 }, "--new-incident did not open a new incident")
    }

    @Test func aWebhookGoneWithA410IsShownInStatus() throws {
        let h = try DaemonHarness()
        try h.receiver.setRoutes(["/hook": ["status": 410]])
        try h.start()
        defer { h.stop() }
        _ = try h.cli(["failover", "start", "--business", "shop", "--reason", "gone"])
        #expect(h.wait(20) { ((try? h.cli(["status", "--json"]))?.stdout ?? "").contains("\"disabledWebhooks\"") })
        let json = try h.cli(["status", "--json"]).stdout
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let disabled = try #require(report["disabledWebhooks"] as? [[String: Any]])
        #expect(disabled.first?["webhook"] as? String == "crm")
        #expect(disabled.first?["business"] as? String == "shop")
        let text = try h.cli(["status"]).stdout
        #expect(text.contains("DISABLED WEBHOOKS") && text.contains("crm"))
    }

    @Test func aBusinessRemovedMidIncidentIsResolvedByTheReload() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        try h.platformDown()
        #expect(h.wait(30) { h.emails().count >= 3 })
        try FileManager.default.removeItem(atPath: h.dir.file("policies/shop.yaml"))
        try h.dir.write("policies/other.yaml", "business: other\nname: Other\ndepends_on: [acme]\nmessage: {outage: x}\nchannels: {banner: {publish_dir: ../site/other}}\n")
        let reload = try h.cli(["reload"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(h.wait(10) { ((try? h.cli(["incidents", "--json", "--business", "shop"]))?.stdout ?? "").contains("\"resolvedBy\" : \"reload\"") },
                "\((try? h.cli(["incidents", "--json"]))?.stdout ?? "")")
    }

    @Test func anOutageTextEditedMidIncidentReachesTheBanner() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        try h.platformDown()
        #expect(h.wait(30) { (h.servedBanner()?["message"] as? String)?.contains("Acme is down") == true })
        try h.writePolicy(message: "We moved to the phone line.")
        let reload = try h.cli(["reload"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(h.wait(10) { (h.servedBanner()?["message"] as? String)?.contains("We moved to the phone line.") == true },
                "\(h.servedBanner() ?? [:])")
    }

    @Test func anOutcomeTheStoreCannotTakeIsKeptAndRecordedLaterNotSentAgain() throws {
        var options = DaemonHarness.Options()
        options.smtpArguments = ["--data-delay", "1.5"]
        let h = try DaemonHarness(options)
        try h.start()
        defer { h.stop() }
        _ = try h.cli(["failover", "start", "--business", "shop", "--reason", "store locked"])
        Thread.sleep(forTimeInterval: 0.5)  // the emails are with the server, waiting for its reply to DATA
        // Another process holds the database's write lock for 28 s: every write the daemon queues
        // meanwhile (first a claim of each of the four channels, then the outcomes) waits its 5 s
        // busy timeout and fails, the outcomes' write too.
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: Repo.python == "/usr/bin/env" ? "/usr/bin/python3" : Repo.python)
        locker.arguments = ["-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
            c.execute("BEGIN EXCLUSIVE"); print("locked", time.time(), flush=True); time.sleep(28); c.execute("COMMIT"); print("unlocked", time.time(), flush=True)
            """, h.dir.file("state/detour.sqlite")]
        let said = Pipe()
        locker.standardOutput = said
        try locker.run()
        locker.waitUntilExit()
        let lockTimes = String(decoding: said.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(locker.terminationStatus == 0)
        // Once the lock is gone the kept outcomes are written, before the 30 s lease would expire.
        #expect(h.wait(12) {
            let out = (try? h.cli(["deliveries", "--json", "--state", "sent"]))?.stdout ?? ""
            return out.components(separatedBy: "\"id\" :").count - 1 == 5
        }, "\(h.log().suffix(3000))")
        #expect(h.log().contains("keeping them in memory and retrying"),
                "\(lockTimes)\(h.log().split(separator: "\n").filter { $0.contains("deliver") || $0.contains("outcome") }.joined(separator: "\n"))")
        #expect(h.emails().count == 3, "each customer gets one email")
    }

    @Test func theDebugLogNamesServicesWithoutTheirEnvironment() throws {
        // A secret given as `env:NAME` lives in the daemon's environment; no log line may carry it.
        setenv("DETOUR_LEAK_CANARY", "canary-7f3a9c", 1)
        defer { unsetenv("DETOUR_LEAK_CANARY") }
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        #expect(h.log().contains("Starting service lifecycle"))
        #expect(!h.log().contains("canary-7f3a9c"), "the debug log prints the environment")
    }
}
