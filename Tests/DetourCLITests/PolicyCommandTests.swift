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
        #expect((json["platforms"] as? [Any])?.count == 4, "whatsapp, whatsapp-cloud-api, facebook, messenger")
    }

    @Test func showOfAnUnknownBusinessListsTheKnownOnes() throws {
        let r = try DetourBinary.run(["policy", "show", "nope", "--config", Repo.path("examples/detour.yaml")])
        #expect(r.status != 0)
        #expect(r.stderr.contains("glow-salon, rosies-bakery, threadline-shop"))
    }

    @Test func checkJSONReportsEveryProblemWithItsPosition() throws {
        let dir = try TempDir()
        try dir.write("detour.yaml", "policies: p\nprobes:\n  intervall: 30s\n")
        try dir.write("p/a.yaml", "business: a\nname: A\ndepends_on: [instagam]\nmessage: {outage: x}\nchannels: {banner: {publish_dir: /tmp}}\n")
        let r = try DetourBinary.run(["policy", "check", "--json", "--config", dir.file("detour.yaml")])
        #expect(r.status == 1)
        #expect(r.stderr.isEmpty, "JSON mode prints nothing else: \(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        #expect(json["ok"] as? Bool == false)
        #expect((json["policies"] as? [Any])?.isEmpty == true)
        #expect((json["warnings"] as? [Any])?.isEmpty == true)
        let errors = try #require(json["errors"] as? [[String: Any]])
        #expect(errors.count == 2)
        for e in errors { #expect(Set(e.keys) == ["file", "line", "column", "key", "message", "hint"], "\(e)") }
        let platform = try #require(errors.first { $0["key"] as? String == "depends_on[0]" })
        #expect(platform["file"] as? String == dir.file("p/a.yaml"))
        #expect(platform["line"] as? Int == 3 && platform["column"] as? Int == 14)
        #expect(platform["message"] as? String == "unknown platform 'instagam'")
        #expect((platform["hint"] as? String)?.contains("did you mean 'instagram'?") == true)
    }

    @Test func checkJSONListsThePoliciesWhenAllIsWell() throws {
        let r = try DetourBinary.run(["policy", "check", "--json", "--config", Repo.path("examples/detour.yaml")])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        #expect(json["ok"] as? Bool == true)
        #expect((json["errors"] as? [Any])?.isEmpty == true)
        #expect(json["warnings"] is [Any])
        let policies = try #require(json["policies"] as? [[String: Any]])
        #expect(policies.compactMap { $0["business"] as? String } == ["glow-salon", "rosies-bakery", "threadline-shop"])
        #expect(policies.first?["emailRecipients"] as? Int == 3)
    }

    /// Every `key:` of a YAML text, commented or not.
    static func keys(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { raw -> String? in
            var line = Substring(raw)
            while line.first == " " || line.first == "#" { line = line.dropFirst() }
            if line.hasPrefix("- ") { line = line.dropFirst(2) }
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let key = line[..<colon]
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
            let after = line[colon...].dropFirst()
            guard after.isEmpty || after.first == " " else { return nil }  // `tel:+44…`, `https://…` are values
            return String(key)
        }
    }

    @Test func showSpeaksThePolicyFilesLanguage() throws {
        let r = try DetourBinary.run(["policy", "show", "glow-salon", "--config", Repo.path("examples/detour.yaml")])
        #expect(r.status == 0, "\(r.stderr)")
        let keys = Self.keys(r.stdout)
        #expect(keys.contains("depends_on") && keys.contains("recovery_grace") && keys.contains("max_per_customer"))
        #expect(keys.contains("failure_threshold") && keys.contains("publish_dir"))
        let notSnake = keys.filter { $0.contains { $0.isUppercase } }
        #expect(notSnake.isEmpty, "camelCase keys: \(notSnake)")
        #expect(r.stdout.contains("grace: 3m\n"))
        #expect(r.stdout.contains("jitter: 10%\n"))
        #expect(!r.stdout.contains("jitter: 0.1"))
        #expect(!r.stdout.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        #expect(r.stdout.contains("secret: <secret from inline in glow-salon.yaml>"))
    }

    @Test func showOutputPastedIntoAPolicyFileLoadsBackTheSamePolicy() throws {
        let shown = try DetourBinary.run(["policy", "show", "glow-salon", "--config", Repo.path("examples/detour.yaml")])
        #expect(shown.status == 0, "\(shown.stderr)")
        // The same set-up elsewhere: the daemon file and the audiences, and the shown text as the policy,
        // with the inline secrets (shown redacted) written back.
        let dir = try TempDir()
        try dir.write("detour.yaml", try String(contentsOfFile: Repo.path("examples/detour.yaml"), encoding: .utf8))
        for name in ["glow-salon.csv"] {
            try dir.write("audiences/\(name)", try String(contentsOfFile: Repo.path("examples/audiences/\(name)"), encoding: .utf8))
        }
        var pasted = ""
        for line in shown.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.contains("<secret from inline") {
                let indent = line.prefix { $0 == " " }
                pasted += line.contains("url:") ? "\(indent)url: http://127.0.0.1:8471/hooks/pasted\n"
                    : "\(indent)secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
            } else {
                pasted += line + "\n"
            }
        }
        try dir.write("policies/glow-salon.yaml", pasted)
        let check = try DetourBinary.run(["policy", "check", "--config", dir.file("detour.yaml")])
        #expect(check.status == 0, "\(check.stderr)\n\(pasted)")
        #expect(check.stderr.isEmpty, "\(check.stderr)")

        let again = try DetourBinary.run(["policy", "show", "glow-salon", "--config", dir.file("detour.yaml")])
        #expect(again.status == 0, "\(again.stderr)")
        func body(_ text: String) -> [Substring] {
            text.split(separator: "\n").filter { !$0.hasPrefix("# Read from") && !$0.hasPrefix("# What it uses from") }
        }
        #expect(body(again.stdout) == body(shown.stdout))
    }

    @Test func helpTeachesWithExamples() throws {
        for cmd in [["policy", "check"], ["policy", "show"], ["probe"]] {
            let r = try DetourBinary.run(cmd + ["--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Examples:"), "\(cmd)")
        }
    }
}
