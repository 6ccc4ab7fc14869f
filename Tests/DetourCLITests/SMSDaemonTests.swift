import Foundation
import Testing
import TestKit

/// The real `detour run` texting a salon's customers through a Twilio stand-in that checks requests
/// as Twilio does: the outage text to every number, Twilio's permanent errors kept as dead
/// deliveries with their code, a STOP honoured from the stop file, and the all-clear only to the
/// numbers that were told.
@Suite(.serialized) struct SMSDaemonTests {
    static let sid = "AC0123456789abcdef0123456789abcdef"

    func requests(_ file: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: file + ".log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    func texts(_ file: String) -> [(to: String, body: String)] {
        requests(file).filter { $0["status"] as? Int == 201 }.compactMap {
            guard let form = $0["form"] as? [String: String], let to = form["To"], let body = form["Body"] else { return nil }
            return (to, body)
        }
    }

    @Test func aSalonsCustomersGetATextAndTheAllClear() throws {
        let standInDir = try TempDir("twilio-daemon")
        let config = standInDir.file("twilio.json")
        try JSONSerialization.data(withJSONObject: ["account_sid": Self.sid, "auth_token": "tw-token-canary-9c1d",
                                                    "invalid": ["+15005550001"], "stopped": []]).write(to: URL(fileURLWithPath: config))
        let twilio = try LocalServer(script: "twilio_server.py", arguments: [config])
        var options = DaemonHarness.Options()
        options.extraChannels = """
          sms:
            provider: twilio
            account_sid: \(Self.sid)
            auth_token: env:TWILIO_TOKEN
            from: "+447700900100"
            base_url: http://127.0.0.1:\(twilio.port)
            audience: ../phones.csv
            stop_file: ../stop.txt
        """
        let h = try DaemonHarness(options)
        try h.dir.write("phones.csv", "name,phone\nAna,+44 7700 900123\nBen,+44 7700 900456\nCy,+1 500 555 0001\nDi,+44 7700 900789\n")
        try h.dir.write("stop.txt", "# numbers that replied STOP\n")
        try h.start(environment: ["TWILIO_TOKEN": "tw-token-canary-9c1d"])
        defer { h.stop() }

        // Di replies STOP before the outage: she is never texted.
        try h.dir.write("stop.txt", "# numbers that replied STOP\n+44 7700 900789\n")
        try h.platformDown()
        #expect(h.wait(30) { texts(config).count >= 2 }, "no texts; log:\n\(h.log().suffix(3000))")
        Thread.sleep(forTimeInterval: 2)
        let outage = texts(config)
        #expect(outage.map(\.to).sorted() == ["+447700900123", "+447700900456"], "\(outage)")
        #expect(outage.allSatisfy { $0.body.hasPrefix("Corner Shop: Acme Social is not working") && $0.body.contains("0161 496 0000") },
                "\(outage)")
        let dead = try h.cli(["deliveries", "--channel", "sms", "--state", "dead", "--json"])
        #expect(dead.stdout.contains("+15005550001") && dead.stdout.contains("21211"), "\(dead.stdout)")
        let status = try h.cli(["deliveries", "--channel", "sms", "--json"])
        #expect(status.stdout.contains("twilio SM"), "the provider's message id is kept as the reply")

        try h.platformUp()
        #expect(h.wait(30) { texts(config).count >= 4 }, "no all-clear texts; log:\n\(h.log().suffix(3000))")
        Thread.sleep(forTimeInterval: 2)
        let allClear = texts(config).dropFirst(2)
        #expect(allClear.map(\.to).sorted() == ["+447700900123", "+447700900456"], "only the numbers that were told")
        #expect(allClear.allSatisfy { $0.body.contains("is working again") })
        #expect(!h.log().contains("tw-token-canary"), "the auth token never reaches the log")
        let check = try DetourBinary.run(["policy", "check", "--config", h.configPath], environment: ["TWILIO_TOKEN": "x"])
        #expect(check.stdout.contains("sms shop: outage text") && check.stdout.contains("GSM-7"), "\(check.stdout)\(check.stderr)")
    }
}
