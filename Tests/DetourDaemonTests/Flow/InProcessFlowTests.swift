import DetourCore
@testable import DetourDaemon
import DetourStore
import Foundation
import Testing
import TestKit

/// Open → deliver → retry → resolve with the real deciding and delivering parts in this process, on
/// a clock the test moves: what takes minutes of backoff in production takes a moment here.
@Suite(.serialized) struct InProcessFlowTests {
    @Test func aManualFailoverDeliversRetriesAFailingWebhookAndTheStopSendsTheAllClear() async throws {
        var settings = InProcessDaemon.Settings()
        settings.webhookRoutes = ["/hook": [["status": 503], ["status": 204]]]
        let d = try await InProcessDaemon(settings)
        try await InfraSupport.running(d.core.services) {
            let opened = try await d.core.coordinator.startFailover(business: BusinessID("shop"), platforms: [], reason: "flow", by: "test")
            #expect(opened.contains("opened"))
            // Three emails and the banner go out; the webhook's first answer is 503.
            #expect(try await d.eventually {
                let (sent, failed) = (try await d.count(.sent), try await d.count(.failed))
                return sent == 4 && failed == 1
            })
            #expect(d.emails().count == 3)
            let failed = try #require(try await d.store.deliveries(DeliveryFilter(state: .failed)).first)
            #expect(failed.channel == .webhook)
            #expect((failed.lastError ?? "").contains("503"))
            // Nothing is retried before its backoff (10 s, with jitter at least 5 s) has passed on the clock.
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await d.count(.failed) == 1)
            d.clock.advance(by: .seconds(11))
            #expect(try await d.eventually { try await d.count(.sent) == 5 })
            #expect(d.receiver.requests().filter { ($0["path"] as? String) == "/hook" }.count == 2)

            _ = try await d.core.coordinator.stopFailover(business: BusinessID("shop"), by: "test")
            #expect(try await d.eventually {
                let sent = try await d.count(.sent)
                return sent == 10 && d.emails().count == 6
            })
            #expect(d.emails().suffix(3).allSatisfy { $0.raw.contains("Acme is back") })
        }
    }

    @Test func aSendThatOutlastsItsLeaseReachesTheServerOnce() async throws {
        // The SMTP server takes 3 s (real time) to accept the message while the test moves the clock
        // 12 s: in the store's time the send outlasts its 5 s lease twice over. A second worker (another
        // owner on the same state file, on the same time) claims any lease that has expired.
        var settings = InProcessDaemon.Settings()
        settings.recipients = 1
        settings.lease = "5s"
        settings.smtpTimeout = "4s"
        settings.smtpArguments = ["--data-delay", "3"]
        let a = try await InProcessDaemon(settings)
        var otherSettings = settings
        otherSettings.owner = "test/2"
        let b = try await InProcessDaemon(otherSettings, sharing: a)
        // Both workers renew on the same clock; the lease is renewed every third of it.
        try await InfraSupport.running(a.core.services + b.core.services) {
            _ = try await a.core.coordinator.startFailover(business: BusinessID("shop"), platforms: [], reason: "lease", by: "test")
            // Let the send start, then move both clocks past several leases while the server holds it.
            try await Task.sleep(for: .milliseconds(500))
            for _ in 0..<6 {
                a.clock.advance(by: .seconds(2))
                b.clock.advance(by: .seconds(2))
                try await Task.sleep(for: .milliseconds(400))
            }
            #expect(try await a.eventually(15) {
                let sent = try await a.count(.sent)
                return a.emails().count >= 1 && sent >= 2
            })
            // Any second attempt would reach the server within its 3 s delay.
            try await Task.sleep(for: .seconds(4))
            let email = try #require(try await a.store.deliveries(DeliveryFilter(channel: .email)).first)
            #expect(a.emails().count == 1, "the email reached the server \(a.emails().count) times")
            #expect(email.state == .sent && email.attempts == 1, "\(email.state), \(email.attempts) attempts")
        }
    }
}
