import Foundation
import Testing
import TestKit

/// The promise users buy Detour for: a SIGKILL at any moment loses nothing, and a message is sent
/// twice only if it was in flight at the kill.
@Suite(.serialized) struct CrashSafetyTests {
    @Test func aSIGKILLMidFanOutOf5000EmailsLosesNoneAndDuplicatesAtMostTheInFlightOnes() throws {
        var o = DaemonHarness.Options()
        o.recipients = 5000
        o.emailConcurrency = 8
        o.smtpConnections = 4
        let h = try DaemonHarness(o)
        try h.start()
        #expect(try h.cli(["failover", "start", "--business", "shop", "--reason", "crash drill"]).status == 0)
        #expect(h.wait(60) { h.emails().count >= 1000 }, "fan-out did not start; log:\n\(h.log().suffix(2000))")
        let killed = h.stop(SIGKILL)
        #expect(killed == -SIGKILL)
        let atKill = h.emails().count
        #expect(atKill < 5000, "the kill came after the fan-out finished; the test proves nothing")

        try h.start()
        defer { h.stop() }
        #expect(h.wait(120) { Set(h.emails().compactMap { DaemonHarness.header("Message-ID", in: $0.raw) }).count >= 5000 })
        Thread.sleep(forTimeInterval: 1)
        let ids = h.emails().filter { $0.raw.contains("Acme is down") }.compactMap { DaemonHarness.header("Message-ID", in: $0.raw) }
        let unique = Set(ids)
        let duplicates = ids.count - unique.count
        #expect(unique.count == 5000, "lost \(5000 - unique.count) of 5000 (killed after \(atKill))")
        #expect(duplicates <= 8, "\(duplicates) duplicates; at most the concurrency (8) may be in flight at a kill")
        let deliveries = try h.cli(["deliveries", "--state", "queued", "--json"])
        #expect(deliveries.stdout.contains("[") && !deliveries.stdout.contains("\"id\""), "nothing is left queued")
    }

    @Test func aSIGKILLMidFanOutOf3000TextsLosesNoneAndResendsOnlyTheSameDeliveries() throws {
        let sid = "AC0123456789abcdef0123456789abcdef"
        let standIn = try TempDir("crash-twilio")
        let config = standIn.file("twilio.json")
        try JSONSerialization.data(withJSONObject: ["account_sid": sid, "auth_token": "tok-crash"]).write(to: URL(fileURLWithPath: config))
        let twilio = try LocalServer(script: "twilio_server.py", arguments: [config])
        var o = DaemonHarness.Options()
        o.extraChannels = """
          sms:
            provider: twilio
            account_sid: \(sid)
            auth_token: env:TWILIO_TOKEN
            from: "+447700900100"
            base_url: http://127.0.0.1:\(twilio.port)
            audience: ../phones.csv
        """
        let h = try DaemonHarness(o)
        var csv = "name,phone\n"
        for i in 0..<3000 { csv += "Customer \(i),+4477009\(String(format: "%05d", i))\n" }
        try h.dir.write("phones.csv", csv)
        func texts() -> [String] {
            let text = (try? String(contentsOfFile: config + ".log", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], entry["status"] as? Int == 201 else { return nil }
                return (entry["form"] as? [String: String])?["To"]
            }
        }
        let env = ["TWILIO_TOKEN": "tok-crash"]
        try h.start(environment: env)
        #expect(try h.cli(["failover", "start", "--business", "shop", "--reason", "crash drill"]).status == 0)
        #expect(h.wait(60) { texts().count >= 500 }, "texts did not start; log:\n\(h.log().suffix(2000))")
        #expect(h.stop(SIGKILL) == -SIGKILL)
        let atKill = texts().count
        #expect(atKill < 3000, "the kill came after the fan-out finished; the test proves nothing")

        try h.start(environment: env)
        defer { h.stop() }
        #expect(h.wait(120) { Set(texts()).count >= 3000 }, "after the restart: \(Set(texts()).count) of 3000; log:\n\(h.log().suffix(2000))")
        Thread.sleep(forTimeInterval: 1)
        let sent = texts()
        let duplicates = sent.count - Set(sent).count
        #expect(Set(sent).count == 3000, "lost \(3000 - Set(sent).count) of 3000 (killed after \(atKill))")
        // Resent: only what was in flight (4 senders) or sent and not yet recorded (the recorder
        // holds at most 4 x the node's senders, 64 at least) at the kill.
        #expect(duplicates <= 4 + 64, "\(duplicates) texts sent twice")
        let all = try h.cli(["deliveries", "--channel", "sms", "--limit", "10000", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]], "\(all.stdout.prefix(300))")
        #expect(rows.count == 3000, "a resend is the same delivery (same id, same idempotency key), never a new one")
        #expect(rows.allSatisfy { $0["state"] as? String == "sent" })
        withExtendedLifetime(twilio) {}
    }
}
