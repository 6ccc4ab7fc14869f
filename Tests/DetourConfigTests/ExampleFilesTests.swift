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
        #expect(loaded?.daemon.platforms[.instagram]?.probes.count == 4, "built-in probes plus one extra")
        #expect(loaded?.daemon.platforms[.instagram]?.health.interval == .seconds(20))
    }
}
