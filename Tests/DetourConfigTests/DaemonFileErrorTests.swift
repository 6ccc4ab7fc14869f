import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

/// Mistakes in detour.yaml, each with its message and position.
@Suite struct DaemonFileErrorTests {
    @Test func defaultsApplyWhenTheDaemonFileIsMinimal() throws {
        let f = try Fixture()
        let d = try #require(f.loaded?.daemon)
        #expect(d.health.failureThreshold == 3 && d.health.successThreshold == 2 && d.health.quorum == .majority)
        #expect(d.platforms.count == 5)
        #expect(d.controls.count == BuiltinPlatforms.controlProbes.count)
        #expect(d.smtp["relay"]?.maxConnections == 4)
        #expect(d.http.port == 8470)
    }

    @Test func anUnknownTopLevelKeySuggestsTheRightOne() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + "\npolicy: elsewhere")
        let e = try #require(f.error("detour.yaml", "policy"))
        #expect(e.hint?.hasPrefix("did you mean 'policies'?") == true)
        #expect((e.line, e.column) == (6, 1))
    }

    @Test func aBadSMTPURLAndRateAreReported() throws {
        let f = try Fixture(daemon: """
        smtp:
          relay:
            url: https://mail.example.com
            rate: 20/sec
        """)
        #expect(f.error("detour.yaml", "smtp.relay.url")?.message.contains("is not an smtp:// or smtps:// URL") == true)
        let rate = try #require(f.error("detour.yaml", "smtp.relay.rate"))
        #expect((rate.line, rate.column) == (4, 11))
        #expect(rate.hint?.contains("20/s") == true)
    }

    @Test func credentialsInTheSMTPURLAreRefusedWithoutEchoingThem() throws {
        let f = try Fixture(daemon: "smtp:\n  relay:\n    url: smtp://bob:s3cr3t-pw@mail.example.com:587\n")
        #expect(f.error("detour.yaml", "smtp.relay.url") != nil)
        #expect(!f.everything.contains("s3cr3t-pw"))
    }

    @Test func outOfRangeNumbersAndBadQuorumAreReported() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + "\nprobes:\n  failure_threshold: 0\n  quorum: most")
        #expect(f.error("detour.yaml", "probes.failure_threshold")?.message == "0 is out of range")
        #expect(f.error("detour.yaml", "probes.quorum")?.hint?.contains("majority") == true)
    }

    @Test func aProbeWithAMisspeltKindSuggestsTheKind() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + "\nplatforms:\n  shop:\n    probes:\n      - htp: https://shop.example/")
        let e = try #require(f.error("detour.yaml", "platforms.shop.probes[0]"))
        #expect(e.hint == "did you mean 'http'?")
        #expect((e.line, e.column) == (9, 9))
    }

    @Test func aCustomPlatformWithoutProbesIsAnError() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + "\nplatforms:\n  shop:\n    name: Shop")
        #expect(f.error("detour.yaml", "platforms.shop")?.message == "custom platform 'shop' has no probes")
    }

    @Test func customPlatformsCanBeDependedOn() throws {
        let daemon = Fixture.minimalDaemon + "\nplatforms:\n  shop:\n    probes:\n      - dns: shop.example\n      - tcp: shop.example:443\n      - http: https://shop.example/health\n        expect_status: [200, 204-206]\n        must_not_contain: Maintenance"
        let f = try Fixture(daemon: daemon, policies: ["a.yaml": policy(replacing: "[instagram]", with: "[shop, instagram]")])
        #expect(f.diagnostics.all.isEmpty, "\(f.everything)")
        let shop = try #require(f.loaded?.daemon.platforms[PlatformID("shop")])
        guard case .http(let check) = shop.probes[2].kind else { Issue.record("expected http"); return }
        #expect(check.accepts(status: 205) && !check.accepts(status: 301))
        #expect(check.mustNotContain == "Maintenance")
    }

    @Test func aMissingDaemonFileSaysSo() throws {
        let (loaded, d) = ConfigLoader(environment: [:]).load(configPath: "/nonexistent/detour.yaml")
        #expect(loaded == nil)
        #expect(d.errors.first?.message == "no such file")
    }

    @Test func aMissingPoliciesDirectoryIsAnError() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon.replacingOccurrences(of: "policies: policies", with: "policies: nowhere"))
        #expect(f.error("detour.yaml", "policies")?.message.hasPrefix("cannot read the policies directory") == true)
    }
}
