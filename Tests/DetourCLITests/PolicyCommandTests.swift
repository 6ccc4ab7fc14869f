import Foundation
import Testing
import TestKit

/// `detour policy …` run as a real process.
@Suite struct PolicyCommandTests {
    @Test func checkPassesOnTheExamplesAndExitsZero() throws {
        let r = try DetourBinary.run(["policy", "check", "--config", Repo.path("examples/detour.yaml")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("ok: ") && r.stdout.contains("3 policies"))
    }

    @Test func checkPrintsEveryProblemAndExitsOne() throws {
        let dir = try TempDir()
        try dir.write("detour.yaml", "policies: p\nprobes:\n  intervall: 30s\n")
        try dir.write("p/a.yaml", "business: a\nname: A\ndepends_on: [instagam]\nmessage: {outage: x}\nchannels: {banner: {publish_dir: /tmp}}\n")
        let r = try DetourBinary.run(["policy", "check", "--config", dir.file("detour.yaml")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("detour.yaml:3:3: error: probes.intervall: unknown key 'intervall'"))
        #expect(r.stderr.contains("a.yaml:3:14: error: depends_on[0]: unknown platform 'instagam'"))
        #expect(r.stdout.contains("failed: 2 errors"))
    }

    @Test func checkOfNamedFilesChecksOnlyThose() throws {
        let r = try DetourBinary.run(["policy", "check", "--config", Repo.path("examples/detour.yaml"), Repo.path("examples/policies/glow-salon.yaml")])
        #expect(r.status == 0)
        #expect(r.stdout.contains("1 policy (glow-salon)"))
    }

    @Test func showRedactsSecretsAndAppliesDefaults() throws {
        let r = try DetourBinary.run(["policy", "show", "glow-salon", "--json", "--config", Repo.path("examples/detour.yaml")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        #expect(r.stdout.contains("<secret from inline in glow-salon.yaml>"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let policy = try #require(json["policy"] as? [String: Any])
        #expect(policy["grace"] as? String == "3m")
        #expect((json["platforms"] as? [Any])?.count == 3)
    }

    @Test func showOfAnUnknownBusinessListsTheKnownOnes() throws {
        let r = try DetourBinary.run(["policy", "show", "nope", "--config", Repo.path("examples/detour.yaml")])
        #expect(r.status != 0)
        #expect(r.stderr.contains("glow-salon, rosies-bakery, threadline-shop"))
    }

    @Test func helpTeachesWithExamples() throws {
        for cmd in [["policy", "check"], ["policy", "show"], ["probe"]] {
            let r = try DetourBinary.run(cmd + ["--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Examples:"), "\(cmd)")
        }
    }
}
