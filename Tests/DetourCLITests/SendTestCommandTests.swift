import Foundation
import Testing
import TestKit

/// `detour send-test`: real messages to the local SMTP server and webhook receiver, no daemon.
@Suite struct SendTestCommandTests {
    static func json(_ r: DetourBinary.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "stdout: \(r.stdout)\nstderr: \(r.stderr)")
    }

    @Test func jsonSaysWhatWasSentAndWhatTheServerAnswered() throws {
        let h = try DaemonHarness()
        let r = try h.cli(["send-test", "--business", "shop", "--channel", "email", "--to", "me@shop.example", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try Self.json(r)
        #expect(report["ok"] as? Bool == true)
        #expect(report["business"] as? String == "shop")
        #expect(report["channel"] as? String == "email")
        #expect(report["error"] is NSNull && report["hint"] is NSNull)
        let sent = try #require(report["sent"] as? [[String: Any]])
        #expect(sent.count == 1)
        #expect(sent.first?["to"] as? String == "me@shop.example")
        #expect(sent.first?["ok"] as? Bool == true)
        #expect((sent.first?["reply"] as? String)?.hasPrefix("250") == true, "\(sent)")
        #expect(sent.first?["error"] is NSNull)
        #expect(h.wait(10) { h.emails().contains { $0.to == ["me@shop.example"] } })
    }

    @Test func jsonForAWebhookNamesTheWebhook() throws {
        let h = try DaemonHarness()
        let r = try h.cli(["send-test", "--business", "shop", "--channel", "webhook", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let sent = try #require(try Self.json(r)["sent"] as? [[String: Any]])
        #expect(sent.map { $0["to"] as? String } == ["crm"])
        #expect(sent.first?["ok"] as? Bool == true)
    }

    @Test func jsonReportsWhyNothingWasSent() throws {
        let h = try DaemonHarness()
        let r = try h.cli(["send-test", "--business", "nope", "--channel", "email", "--json"])
        #expect(r.status == 1)
        let report = try Self.json(r)
        #expect(report["ok"] as? Bool == false)
        #expect(report["error"] as? String == "no business 'nope'")
        #expect((report["hint"] as? String)?.contains("shop") == true)
        #expect((report["sent"] as? [Any])?.isEmpty == true)

        let hook = try h.cli(["send-test", "--business", "shop", "--channel", "webhook", "--webhook", "slack", "--json"])
        #expect(hook.status == 1)
        #expect(try Self.json(hook)["error"] as? String == "shop has no webhook named 'slack'")
    }
}
