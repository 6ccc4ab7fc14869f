import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

@Suite struct ExampleFilesTests {
    @Test func everyExampleFilePassesTheCheckWithoutWarnings() {
        let (loaded, diagnostics) = ConfigLoader(environment: [:]).load(configPath: Repo.path("examples/detour.yaml"))
        #expect(diagnostics.all.isEmpty, "\(diagnostics.sorted.map(\.description))")
        let ids = loaded?.policies.map(\.business.rawValue) ?? []
        #expect(ids == ["glow-salon", "rosies-bakery", "threadline-shop"])
    }

    @Test func everyPolicyFileInExamplesIsCheckedOnItsOwnToo() throws {
        let dir = Repo.path("examples/policies")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 3)
        for file in files {
            let (loaded, diagnostics) = ConfigLoader(environment: [:]).load(configPath: Repo.path("examples/detour.yaml"),
                                                                            policyFiles: [dir + "/" + file])
            #expect(loaded?.policies.count == 1, "\(file): \(diagnostics.sorted.map(\.description))")
        }
    }

    @Test func examplePoliciesResolveTheirAudiencesAndChannels() throws {
        let (loaded, _) = ConfigLoader(environment: [:]).load(configPath: Repo.path("examples/detour.yaml"))
        let bakery = try #require(loaded?.policy(BusinessID("rosies-bakery")))
        #expect(bakery.email?.audience.recipients.map(\.name).contains("Chloé Dupont") == true)
        #expect(bakery.grace == .minutes(5))
        #expect(bakery.recovery.allClear == [.email, .webhook])
        let salon = try #require(loaded?.policy(BusinessID("glow-salon")))
        #expect(salon.webhooks.map(\.format) == [.standard, .teams])
        #expect(salon.email?.audience.recipients.first?.name == "Smith, Jo")
        #expect(loaded?.daemon.platforms[PlatformID("bookly")]?.probes.count == 2)
        #expect(loaded?.daemon.platforms[.instagram]?.probes.count == 4, "built-in probes (DNS, HTTPS, login page) plus one extra")
        #expect(loaded?.daemon.platforms[.instagram]?.health.interval == .seconds(20))
    }

    /// The salon of issue #16 (SMS, Telegram, Mastodon and a custom CRM webhook), with its secrets in
    /// the environment as its README says; and the demo's configuration, as `scripts/demo.sh` runs it.
    @Test func theSalonAndTheDemoPassTheCheckWithTheirSecretsInTheEnvironment() throws {
        let salonEnv = ["TWILIO_AUTH_TOKEN": "t", "TELEGRAM_BOT_TOKEN": "123456789:AAE-example-token-for-policy-check",
                        "MASTODON_TOKEN": "m", "ROSIES_CRM_AUTH": "Bearer c"]
        let (salon, d1) = ConfigLoader(environment: salonEnv).load(configPath: Repo.path("examples/salon/detour.yaml"))
        #expect(d1.all.isEmpty, "\(d1.sorted.map(\.description))")
        let policy = try #require(salon?.policies.first)
        #expect(policy.sms != nil && policy.social.map(\.kind) == [.telegram, .mastodon] && policy.webhooks.first?.format == .custom)
        #expect(policy.sms?.quietHours?.timeZone == "Europe/London")
        let (missing, d2) = ConfigLoader(environment: [:]).load(configPath: Repo.path("examples/salon/detour.yaml"))
        #expect(missing == nil && d2.errors.count == 4, "one error per secret not set: \(d2.sorted.map(\.description))")
        let (demo, d3) = ConfigLoader(environment: ["DEMO_TWILIO_TOKEN": "t", "DEMO_MASTODON_TOKEN": "m"])
            .load(configPath: Repo.path("examples/demo/detour.yaml"))
        #expect(d3.errors.isEmpty, "\(d3.sorted.map(\.description))")
        #expect(demo?.policies.map(\.business.rawValue) == ["glow-salon", "rosies-bakery"])
    }
}
