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
}
