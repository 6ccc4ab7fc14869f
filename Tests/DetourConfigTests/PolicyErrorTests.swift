import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

/// One test per class of mistake in a policy file, each asserting the message and the position.
@Suite struct PolicyErrorTests {
    @Test func aMinimalPolicyLoads() throws {
        let f = try Fixture()
        #expect(f.loaded?.policies.count == 1, "\(f.everything)")
        #expect(f.loaded?.policies.first?.grace == .minutes(3))
    }

    @Test func anUnknownKeySuggestsTheKeyYouMeant() throws {
        let f = try Fixture(policies: ["a.yaml": policy(with: "recovery_grase: 10m")])
        let e = try #require(f.error("policies/a.yaml", "recovery_grase"))
        #expect(e.message == "unknown key 'recovery_grase'")
        #expect(e.hint?.hasPrefix("did you mean 'recovery_grace'?") == true)
        #expect((e.line, e.column) == (9, 1))
        #expect(f.loaded == nil)
    }

    @Test func anUnknownNestedKeyNamesItsFullPath() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "    publish_dir: site", with: "    publish_dir: site\n    mesage: hi")])
        let e = try #require(f.error("policies/a.yaml", "channels.banner.mesage"))
        #expect(e.hint?.contains("did you mean 'message'?") == true)
        #expect((e.line, e.column) == (9, 5))
    }

    @Test func aMissingRequiredKeyIsReportedAtItsMapping() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "name: Rosie's Bakery\n", with: "")])
        let e = try #require(f.error("policies/a.yaml", "name"))
        #expect(e.message == "missing required key 'name'")
        #expect(e.hint?.contains("name: Rosie's Bakery") == true)
        #expect((e.line, e.column) == (1, 1))
    }

    @Test func aWrongTypeSaysWhatWasFoundAndWhatIsExpected() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "  outage: Order by phone.", with: "  outage: [Order, by, phone]")])
        let e = try #require(f.error("policies/a.yaml", "message.outage"))
        #expect(e.message == "expected text, found a list")
        #expect((e.line, e.column) == (5, 11))
    }

    @Test func aDurationThatDoesNotParseShowsTheAcceptedForms() throws {
        let f = try Fixture(policies: ["a.yaml": policy(with: "grace: 5 minutes")])
        let e = try #require(f.error("policies/a.yaml", "grace"))
        #expect(e.message == "\"5 minutes\" is not a duration")
        #expect(e.hint?.contains("90s, 2m, 1h30m") == true)
        #expect((e.line, e.column) == (9, 8))
    }

    @Test func aMalformedEmailAddressIsAnError() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "channels:\n", with: "channels:\n  email:\n    smtp: relay\n    from: Rosie <rosie@>\n    audience: ../people.csv\n")],
                            files: ["people.csv": "email,name\na@example.com,A\n"])
        let e = try #require(f.error("policies/a.yaml", "channels.email.from"))
        #expect(e.message == "\"Rosie <rosie@>\" is not an email address")
        #expect((e.line, e.column) == (9, 11))
    }

    @Test func aMalformedURLIsAnError() throws {
        let f = try Fixture(policies: ["a.yaml": policy(with: "contacts:\n  - label: Call\n    url: javascript:alert(1)")])
        let e = try #require(f.error("policies/a.yaml", "contacts[0].url"))
        #expect(e.message.contains("is not a link customers can use"))
        #expect((e.line, e.column) == (11, 10))
    }

    @Test func anUndefinedPlatformIsAnErrorWithASuggestion() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "depends_on: [instagram]", with: "depends_on: [instagam]")])
        let e = try #require(f.error("policies/a.yaml", "depends_on[0]"))
        #expect(e.message == "unknown platform 'instagam'")
        #expect(e.hint?.hasPrefix("did you mean 'instagram'?") == true)
        #expect((e.line, e.column) == (3, 14))
    }

    @Test func anUndefinedSMTPServerIsAnError() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "channels:\n", with: "channels:\n  email:\n    smtp: relai\n    from: a@example.com\n    audience: ../people.csv\n")],
                            files: ["people.csv": "email,name\na@example.com,A\n"])
        let e = try #require(f.error("policies/a.yaml", "channels.email.smtp"))
        #expect(e.message == "unknown SMTP server 'relai'")
        #expect(e.hint?.hasPrefix("did you mean 'relay'?") == true)
        #expect((e.line, e.column) == (8, 11))
    }

    @Test func aDuplicateBusinessIdAcrossFilesNamesTheFirstFile() throws {
        let f = try Fixture(policies: ["a.yaml": Fixture.minimalPolicy, "b.yaml": Fixture.minimalPolicy])
        let e = try #require(f.error("policies/b.yaml", "business"))
        #expect(e.message.hasPrefix("business id 'rosies-bakery' is already used by"))
        #expect(e.message.hasSuffix("policies/a.yaml:1"))
        #expect((e.line, e.column) == (1, 11))
    }

    @Test func anUnreadableAudienceFileIsAnError() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "channels:\n", with: "channels:\n  email:\n    smtp: relay\n    from: a@example.com\n    audience: ../missing.csv\n")])
        let e = try #require(f.error("policies/a.yaml", "channels.email.audience"))
        #expect(e.message.hasPrefix("cannot read audience file"))
        #expect(e.hint?.contains("relative to the policy file") == true)
        #expect((e.line, e.column) == (10, 15))
    }

    @Test func anUnreadableSecretFileIsAnError() throws {
        let f = try Fixture(policies: ["a.yaml": policy(with: "  webhooks:\n    - name: hook\n      format: standard\n      url: https://hooks.example.com/x\n      secret_file: ../nope.whsec")])
        let e = try #require(f.error("policies/a.yaml", "channels.webhooks[0].secret_file"))
        #expect(e.message.hasPrefix("cannot read secret file"))
    }

    @Test func allErrorsInAllFilesAreReportedInOneRun() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + "\nprobes:\n  intervall: 30s",
                            policies: ["a.yaml": policy(with: "grace: soon\ncooldown: later"),
                                       "b.yaml": policy(replacing: "rosies-bakery", with: "other").replacingOccurrences(of: "[instagram]", with: "[myspace]")])
        let files = Set(f.diagnostics.errors.map { ($0.file as NSString).lastPathComponent })
        #expect(files == ["detour.yaml", "a.yaml", "b.yaml"])
        #expect(f.diagnostics.errors.count == 4, "\(f.everything)")
    }

    @Test func aStandardWebhookNeedsAWellFormedSecret() throws {
        let f = try Fixture(policies: ["a.yaml": policy(with: "  webhooks:\n    - name: hook\n      format: standard\n      url: https://hooks.example.com/x\n      secret: hunter2")])
        let e = try #require(f.error("policies/a.yaml", "channels.webhooks[0].secret"))
        #expect(e.message.contains("whsec_"))
        #expect(!f.everything.contains("hunter2"), "a secret must never appear in a diagnostic")
    }

    @Test func webhookTargetsOnMetadataAndPrivateAddressesAreRefused() throws {
        let hooks = "  webhooks:\n    - name: meta\n      format: json\n      url: http://169.254.169.254/latest/meta-data\n    - name: lan\n      format: json\n      url: http://192.168.1.10/hook\n"
        let f = try Fixture(policies: ["a.yaml": policy(with: hooks)])
        #expect(f.error("policies/a.yaml", "channels.webhooks[0].url")?.message.contains("link-local or metadata") == true)
        #expect(f.error("policies/a.yaml", "channels.webhooks[1].url")?.hint?.contains("allow_private_targets") == true)

        let allowed = try Fixture(daemon: Fixture.minimalDaemon + "\nwebhooks:\n  allow_private_targets: true", policies: ["a.yaml": policy(with: hooks)])
        #expect(allowed.diagnostics.errors.count == 1, "private allowed, metadata still refused: \(allowed.everything)")
    }
}

@Suite struct PolicyEdgeTests {
    @Test func aPolicyWhoseChannelsAreAllEmptyIsAnError() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "channels:\n  banner:\n    publish_dir: site", with: "channels:\n  email:\n  webhooks: []")])
        #expect(f.error("policies/a.yaml", "channels")?.message == "no channels: customers would hear nothing")
    }

    @Test func crlfEscapesCannotReachAHeaderValue() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "channels:\n", with: "channels:\n  email:\n    smtp: relay\n    from: \"Rosie\\r\\nBcc: all@example.com <r@example.com>\"\n    audience: ../people.csv\n")],
                            files: ["people.csv": "email,name\na@example.com,A\n"])
        #expect(f.error("policies/a.yaml", "channels.email.from")?.message == "must be a single line")
    }

    @Test func theIPv6MetadataAddressIsRefusedEvenWhenPrivateTargetsAreAllowed() {
        #expect(WebhookTarget.check("http://[fd00:ec2::254]/latest", allowPrivate: true) != nil)
        #expect(WebhookTarget.check("http://[fd12::1]/hook", allowPrivate: true) == nil)
        #expect(WebhookTarget.check("http://[fe80::1]/hook", allowPrivate: true) != nil)
        #expect(WebhookTarget.check("http://metadata.google.internal/", allowPrivate: true) != nil)
        #expect(WebhookTarget.check("https://hooks.slack.com/services/T/B/x", allowPrivate: false) == nil)
    }

    @Test func statusFeedsCannotBeControls() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + "\ncontrols:\n  - statusfeed: https://status.example.com/api/v2/summary.json\n    format: statuspage")
        #expect(f.error("detour.yaml", "controls")?.message == "status feeds cannot be control probes")
    }
}
