import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

/// Meta's business APIs as built-in platforms watched when named, and status-feed components
/// checked against what metastatus publishes.
@Suite struct MetaPlatformsConfigTests {
    @Test func aBusinessAPIIsWatchedWhenTheDaemonFileNamesIt() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + "\nplatforms:\n  whatsapp-cloud-api: {}\n",
                            policies: ["a.yaml": Fixture.minimalPolicy.replacingOccurrences(of: "depends_on: [instagram]", with: "depends_on: [whatsapp-cloud-api]")])
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        let spec = try #require(f.loaded?.daemon.platforms[.whatsappCloudAPI])
        #expect(spec.displayName == "WhatsApp Cloud API" && spec.builtIn)
        #expect(spec.probes.map(\.label).contains { $0.contains("graph.facebook.com") }, "\(spec.probes.map(\.label))")
        #expect(f.loaded?.daemon.platforms[.graphAPI] == nil, "the others stay unwatched")
    }

    @Test func dependingOnOneThatIsNotNamedSaysHowToWatchIt() throws {
        let f = try Fixture(policies: ["a.yaml": Fixture.minimalPolicy.replacingOccurrences(of: "depends_on: [instagram]", with: "depends_on: [graph-api]")])
        let error = f.error("policies/a.yaml", "depends_on[0]")
        #expect(error?.message == "platform 'graph-api' is built in but not watched" && error?.hint?.contains("`graph-api: {}` under platforms:") == true)
    }

    @Test func aFeedComponentMetastatusDoesNotPublishIsAWarning() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + """

            platforms:
              shop:
                probes:
                  - http: https://shop.example/
                  - statusfeed: https://metastatus.com/data/orgs.json
                    format: metastatus
                    component: Instagram
                  - statusfeed: https://metastatus.com/outage-events-feed-whatsapp-business-api.rss
                    format: metastatus-rss
                    component: whatsapp-business-api/Cloud API
            """)
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        let warnings = f.diagnostics.warnings.filter { $0.message.contains("metastatus publishes no org or service") }
        #expect(warnings.count == 1 && warnings[0].message.contains("\"Instagram\""), "\(f.everything)")
    }

    @Test func aGraphProbeTakesTheBusinesssTokenAsASecret() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + """

            platforms:
              whatsapp-cloud-api:
                extra_probes:
                  - graph: "106540352242922"
                    access_token: env:WA_TOKEN
                    fields: id,verified_name
            controls:
              - graph: "1"
                access_token: env:WA_TOKEN
            """, environment: ["WA_TOKEN": "EAAB-secret-1"])
        #expect(f.diagnostics.errors.count == 1 && f.diagnostics.errors[0].message.contains("belongs to a platform, not to controls"), "\(f.everything)")
        let g = try Fixture(daemon: Fixture.minimalDaemon + """

            platforms:
              whatsapp-cloud-api:
                extra_probes:
                  - graph: "106540352242922"
                    access_token: env:WA_TOKEN
                    fields: id,verified_name
                  - graph: "not an id"
            """, environment: ["WA_TOKEN": "EAAB-secret-1"])
        #expect(g.diagnostics.errors.contains { $0.message.contains("is not a Graph API object id") })
        #expect(g.diagnostics.errors.contains { $0.message.contains("needs access_token or access_token_file") }, "\(g.everything)")
        let h = try Fixture(daemon: Fixture.minimalDaemon + """

            platforms:
              whatsapp-cloud-api:
                extra_probes:
                  - graph: "106540352242922"
                    access_token: env:WA_TOKEN
                    fields: id,verified_name
            """, environment: ["WA_TOKEN": "EAAB-secret-1"])
        #expect(!h.diagnostics.hasErrors, "\(h.everything)")
        let probe = try #require(h.loaded?.daemon.platforms[.whatsappCloudAPI]?.probes.last)
        guard case .graph(let check) = probe.kind else { Issue.record("not a graph probe"); return }
        #expect(check.url == "https://graph.facebook.com/\(GraphCheck.defaultVersion)/106540352242922?fields=id,verified_name")
        #expect(check.accessToken.reveal() == "EAAB-secret-1" && probe.label == "graph 106540352242922")
        #expect(!h.everything.contains("EAAB-secret-1"))
    }

    @Test func aSilenceProbeAndABrowserUserAgentLoad() throws {
        let f = try Fixture(daemon: Fixture.minimalDaemon + """

            platforms:
              shop:
                probes:
                  - http: https://shop.example/
                    user_agent: browser
                  - silence: salon
                    token: env:SIG
                    expect_every: 30m
                    open_hours: ["Mon-Fri 09:00-18:00", "Sat 10:00-16:00"]
                    time_zone: Europe/London
            """, environment: ["SIG": "sig-0123456789abcdef"])
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        let probes = try #require(f.loaded?.daemon.platforms[PlatformID("shop")]?.probes)
        guard case .http(let http) = probes[0].kind, case .silence(let silence) = probes[1].kind else { Issue.record("kinds"); return }
        #expect(http.headers["User-Agent"] == HTTPCheck.browserUserAgent)
        #expect(silence.name == "salon" && silence.expectEvery == .minutes(30) && silence.openHours.spans.count == 2)
        #expect(silence.openHours.timeZone == "Europe/London" && !f.everything.contains("sig-0123456789abcdef"))

        let bad = try Fixture(daemon: Fixture.minimalDaemon + """

            platforms:
              shop:
                probes:
                  - http: https://shop.example/
                  - silence: salon
                    token: env:SIG
                    expect_every: 30m
                    open_hours: "weekdays 9-5"
            """, environment: ["SIG": "short"])
        #expect(bad.diagnostics.errors.contains { $0.message.contains("at least 16 letters") }, "\(bad.everything)")
        #expect(bad.diagnostics.errors.contains { $0.message.contains("is not open hours") && $0.hint?.contains("Mon-Fri 09:00-18:00") == true })
    }

    @Test func aStaffWebhookNamesOneOfThePolicysWebhooks() throws {
        let hooks = """
              webhooks:
                - name: staff-slack
                  format: slack
                  url: https://hooks.slack.example/T0/B0/x
            """
        let good = try Fixture(policies: ["a.yaml": policy(with: hooks) + "\nstaff_webhook: staff-slack\n"])
        #expect(!good.diagnostics.hasErrors && good.loaded?.policies.first?.staffWebhook == "staff-slack", "\(good.everything)")
        let bad = try Fixture(policies: ["a.yaml": policy(with: hooks) + "\nstaff_webhook: staff-teams\n"])
        #expect(bad.error("policies/a.yaml", "staff_webhook")?.hint?.contains("staff-slack") == true)
    }
}
