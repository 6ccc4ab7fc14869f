import DetourConfig
import Foundation
import Testing
import TestKit

/// A lease shorter than a send's timeout lets a stalled send be claimed again and sent twice: refused at load.
@Suite struct LeaseTimeoutTests {
    private func load(_ daemon: String) throws -> (ok: Bool, errors: [String]) {
        let dir = try TempDir()
        try dir.write("detour.yaml", daemon)
        try FileManager.default.createDirectory(atPath: dir.file("policies"), withIntermediateDirectories: true)
        let (loaded, diagnostics) = ConfigLoader().load(configPath: dir.file("detour.yaml"))
        return (loaded != nil && !diagnostics.hasErrors, diagnostics.errors.map(\.description))
    }

    @Test func aLeaseShorterThanTheSMTPTimeoutIsAnErrorAtTheLeaseKey() throws {
        let r = try load("""
        policies: policies
        smtp:
          relay:
            url: smtp://127.0.0.1:2525
            timeout: 20s
        delivery:
          lease: 15s
        """)
        #expect(!r.ok)
        let error = try #require(r.errors.first { $0.contains("delivery.lease") })
        #expect(error.contains("detour.yaml:7:"), "\(error)")
        #expect(error.contains("smtp.relay.timeout (20s)"), "\(error)")
        #expect(error.contains("sent twice"))
    }

    @Test func aLongWebhookTimeoutAgainstTheDefaultLeaseIsAnErrorAtTheWebhooksKey() throws {
        let r = try load("""
        policies: policies
        webhooks:
          timeout: 5m
        """)
        #expect(!r.ok)
        #expect(r.errors.contains { $0.contains("detour.yaml:3:") && $0.contains("webhooks.timeout (5m)") }, "\(r.errors)")
    }

    @Test func aLeaseLongerThanEveryTimeoutIsAccepted() throws {
        let r = try load("""
        policies: policies
        smtp:
          relay:
            url: smtp://127.0.0.1:2525
            timeout: 30s
        delivery:
          lease: 2m
        """)
        #expect(r.ok, "\(r.errors)")
    }
}
