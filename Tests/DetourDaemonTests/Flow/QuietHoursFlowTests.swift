import DetourCore
@testable import DetourDaemon
import DetourStore
import Foundation
import Testing
import TestKit

/// Quiet hours, on a clock the test moves: an outage text due at night waits for the morning and
/// goes then; if the outage is over by morning, nobody is texted at all, neither the notice nor the
/// all-clear. Email, the banner and webhooks never wait.
@Suite(.serialized) struct QuietHoursFlowTests {
    static let sid = "AC0123456789abcdef0123456789abcdef"

    /// The in-process daemon (its clock starts at 08:00 UTC) with texts through a Twilio stand-in,
    /// quiet from 07:00 to 09:00 UTC.
    func daemon() async throws -> (InProcessDaemon, String, (LocalServer, TempDir)) {
        let dir = try TempDir("quiet-twilio")
        let config = dir.file("twilio.json")
        try JSONSerialization.data(withJSONObject: ["account_sid": Self.sid, "auth_token": "tok"]).write(to: URL(fileURLWithPath: config))
        let twilio = try LocalServer(script: "twilio_server.py", arguments: [config])
        var s = InProcessDaemon.Settings()
        s.policyExtra = "time_zone: UTC"
        s.channelsExtra = """
          sms:
            provider: twilio
            account_sid: \(Self.sid)
            auth_token: tok
            from: "+447700900100"
            base_url: http://127.0.0.1:\(twilio.port)
            audience: ../phones.csv
            quiet_hours: 07:00-09:00
        """
        let d = try await InProcessDaemon(s, phones: "name,phone\nAna,+44 7700 900123\nBen,+44 7700 900456\n")
        return (d, config, (twilio, dir))
    }

    func texts(_ config: String) -> [String] {
        let text = (try? String(contentsOfFile: config + ".log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], entry["status"] as? Int == 201,
                  let form = entry["form"] as? [String: String] else { return nil }
            return form["Body"]
        }
    }

    @Test func anOutageTextDueInQuietHoursGoesWhenTheyEnd() async throws {
        let (d, config, twilio) = try await daemon()
        defer { withExtendedLifetime(twilio) {} }
        try await InfraSupport.running(d.core.services) {
            _ = try await d.core.coordinator.startFailover(business: BusinessID("shop"), platforms: [], reason: "night", by: "test")
            // Emails, the banner and the webhook go at once; the two texts wait.
            #expect(try await d.eventually {
                let waiting = try await d.store.deliveries(DeliveryFilter(state: .failed, channel: .sms))
                return try await d.count(.sent) == 5 && waiting.count == 2
            })
            let waiting = try await d.store.deliveries(DeliveryFilter(state: .failed, channel: .sms))
            #expect(waiting.allSatisfy { ($0.lastError ?? "").contains("quiet hours") }, "\(waiting.map(\.lastError))")
            #expect(waiting.allSatisfy { $0.nextAttemptAt == d.clock.date.addingTimeInterval(3600) }, "they wait for 09:00 exactly")
            try await Task.sleep(for: .milliseconds(600))
            #expect(texts(config).isEmpty)
            d.clock.advance(by: .seconds(3601))
            let went = try await d.eventually { texts(config).count == 2 }
            let rows = try await d.store.deliveries(DeliveryFilter(channel: .sms)).map { "\($0.state) \($0.nextAttemptAt) \($0.attempts) \($0.lastError ?? "")" }
            #expect(went, "the texts go when quiet hours end: \(rows) at \(d.clock.date)")
            #expect(texts(config).allSatisfy { $0.contains("Acme is down") || $0.contains("Acme Social") })
        }
    }

    @Test func anOutageOverBeforeQuietHoursEndTextsNobody() async throws {
        let (d, config, twilio) = try await daemon()
        defer { withExtendedLifetime(twilio) {} }
        try await InfraSupport.running(d.core.services) {
            _ = try await d.core.coordinator.startFailover(business: BusinessID("shop"), platforms: [], reason: "night", by: "test")
            #expect(try await d.eventually { try await d.count(.sent) == 5 })
            d.clock.advance(by: .seconds(1200))
            _ = try await d.core.coordinator.stopFailover(business: BusinessID("shop"), by: "test")
            // The all-clear emails and webhook go; the all-clear texts wait too.
            #expect(try await d.eventually { d.emails().count == 6 })
            d.clock.advance(by: .seconds(2500))
            #expect(try await d.eventually {
                let sms = try await d.store.deliveries(DeliveryFilter(channel: .sms))
                return sms.count == 4 && sms.allSatisfy { $0.state == .sent }
            })
            let sms = try await d.store.deliveries(DeliveryFilter(channel: .sms))
            #expect(sms.allSatisfy { ($0.reply ?? "").hasPrefix("skipped:") }, "\(sms.map(\.reply))")
            #expect(sms.contains { ($0.reply ?? "").contains("resolved during quiet hours") })
            try await Task.sleep(for: .milliseconds(400))
            #expect(texts(config).isEmpty, "nobody is told of an outage that ended in the night")
        }
    }
}
