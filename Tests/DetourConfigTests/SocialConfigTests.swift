import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

/// `channels.telegram`, `mastodon`, `bluesky` and `google_business`; the SMS providers `vonage` and
/// `http`, `rate`, `quiet_hours` and the policy's `time_zone`: what loads, and each mistake at its key.
@Suite struct SocialConfigTests {
    static let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

    @Test func everySocialAccountLoadsWithItsSecretsKeptSecret() throws {
        let f = try Fixture(policies: ["a.yaml": policy(with: """
              telegram:
                bot_token: env:TG
                chat_id: "@rosies_salon"
              mastodon:
                instance: https://mastodon.example
                access_token: env:MASTO
                visibility: unlisted
                language: en
              bluesky:
                handle: "@rosies.bsky.social"
                app_password_file: ../bsky.txt
              google_business:
                account_id: "1234567890"
                location_id: "9876543210"
                client_id: 42.apps.googleusercontent.com
                client_secret: env:GSECRET
                refresh_token: env:GREFRESH
                call_to_action:
                  action_type: BOOK
                  url: https://rosies.example/book
            """)], files: ["bsky.txt": "abcd-efgh-ijkl-mnop\n"],
            environment: ["TG": Self.token, "MASTO": "masto-secret-1", "GSECRET": "g-secret-1", "GREFRESH": "1//g-refresh-1"])
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        let social = try #require(f.loaded?.policies.first?.social)
        #expect(social.map(\.kind) == [.telegram, .mastodon, .bluesky, .googleBusiness])
        guard case .telegram(let t) = social[0].account, case .mastodon(let m) = social[1].account,
              case .bluesky(let b) = social[2].account, case .googleBusiness(let g) = social[3].account else {
            Issue.record("wrong accounts: \(social)"); return
        }
        #expect(t.chatID == "@rosies_salon" && t.baseURL == "https://api.telegram.org" && t.botToken.reveal() == Self.token)
        #expect(m.visibility == "unlisted" && m.language == "en" && m.instance == "https://mastodon.example")
        #expect(b.handle == "rosies.bsky.social" && b.appPassword.reveal() == "abcd-efgh-ijkl-mnop" && b.service == "https://bsky.social")
        #expect(g.actionType == "BOOK" && g.actionURL == "https://rosies.example/book" && g.tokenURL == "https://oauth2.googleapis.com/token")
        for secret in [Self.token, "masto-secret-1", "g-secret-1", "1//g-refresh-1", "abcd-efgh"] { #expect(!f.everything.contains(secret)) }
    }

    @Test func googlesButtonDefaultsToTheFirstWebContact() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "channels:", with: """
            contacts:
              - label: Call us
                url: tel:+441234567890
              - label: Book online
                url: https://rosies.example/book
            channels:
              google_business:
                account_id: "1"
                location_id: "2"
                client_id: c
                client_secret: env:S
                refresh_token: env:R
            """)], environment: ["S": "s", "R": "r"])
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        guard case .googleBusiness(let g)? = f.loaded?.policies.first?.social.first?.account else { Issue.record("no google"); return }
        #expect(g.actionType == "LEARN_MORE" && g.actionURL == "https://rosies.example/book" && g.language == "en")
    }

    @Test func googlesButtonCanBeTurnedOff() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "channels:", with: """
            contacts:
              - label: Book online
                url: https://rosies.example/book
            channels:
              google_business:
                account_id: "1"
                location_id: "2"
                client_id: c
                client_secret: env:S
                refresh_token: env:R
                call_to_action: none
            """)], environment: ["S": "s", "R": "r"])
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        guard case .googleBusiness(let g)? = f.loaded?.policies.first?.social.first?.account else { Issue.record("no google"); return }
        #expect(g.actionType == nil && g.actionURL == nil)
    }

    @Test func eachSocialMistakeIsAnErrorAtItsKey() throws {
        let f = try Fixture(policies: ["a.yaml": policy(with: """
              telegram:
                bot_token: not-a-token
                chat_id: rosies
              mastodon:
                instance: http://10.0.0.1
                visibility: direct
              bluesky:
                handle: not a handle
                app_password: env:BSKY
              google_business:
                account_id: accounts/1
                location_id: "2"
                client_id: c
                client_secret: env:S
                refresh_token: env:R
                call_to_action:
                  action_type: CALL
                  url: https://rosies.example
            """)], environment: ["S": "s", "R": "r", "BSKY": "p"])
        #expect(f.error("policies/a.yaml", "channels.telegram.bot_token")?.message.contains("not a Telegram bot token") == true)
        #expect(f.error("policies/a.yaml", "channels.telegram.chat_id")?.hint?.contains("@yourchannel") == true)
        #expect(f.error("policies/a.yaml", "channels.mastodon.instance") != nil)
        #expect(f.error("policies/a.yaml", "channels.mastodon.visibility") != nil)
        #expect(f.diagnostics.errors.contains { $0.keyPath == "channels.mastodon" && $0.message.contains("access_token") }, "\(f.everything)")
        #expect(f.error("policies/a.yaml", "channels.bluesky.handle") != nil)
        #expect(f.error("policies/a.yaml", "channels.google_business.account_id")?.hint?.contains("digits after accounts/") == true)
        #expect(f.error("policies/a.yaml", "channels.google_business.call_to_action.url")?.message.contains("CALL") == true)
        #expect(!f.everything.contains("not-a-token"))
    }

    @Test func vonageAndHTTPProvidersRateAndQuietHoursLoad() throws {
        let audience = "name,phone\nAna,+44 7700 900123\n"
        let f = try Fixture(policies: [
            "a.yaml": policy(replacing: "channels:", with: """
                time_zone: Europe/London
                channels:
                  sms:
                    provider: vonage
                    api_key: abcd1234
                    api_secret: env:VSECRET
                    from: RosiesSalon
                    audience: ../phones.csv
                    rate: 5/s
                    quiet_hours: 22:00-08:00
                """),
            "b.yaml": policy(with: """
                  sms:
                    provider: http
                    url: env:GATEWAY
                    method: PUT
                    headers:
                      Authorization: env:GWKEY
                    body: ../gateway.json
                    audience: ../phones.csv
                    rate: 100/m
                """).replacingOccurrences(of: "rosies-bakery", with: "dentist"),
        ], files: ["phones.csv": audience, "gateway.json": "{\"to\": \"{{to}}\", \"text\": \"{{text}}\"}\n"],
           environment: ["VSECRET": "vonage-secret-1", "GATEWAY": "https://sms.example/send?key=url-secret-1", "GWKEY": "Bearer gw-secret-1"])
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        let a = try #require(f.loaded?.policy(BusinessID("rosies-bakery")))
        let b = try #require(f.loaded?.policy(BusinessID("dentist")))
        #expect(a.timeZone == "Europe/London" && a.sms?.rate == SendRate(count: 5, per: .seconds(1)))
        #expect(a.sms?.quietHours == QuietHours(start: 22 * 60, end: 8 * 60, timeZone: "Europe/London"))
        guard case .vonage(let v)? = a.sms?.provider, case .http(let h)? = b.sms?.provider else { Issue.record("providers"); return }
        #expect(v.from == "RosiesSalon" && v.apiSecret.reveal() == "vonage-secret-1" && v.baseURL == "https://rest.nexmo.com")
        #expect(h.request.method == "PUT" && h.request.contentType == "application/json" && h.request.headers.first?.name == "Authorization")
        #expect(b.sms?.rate?.interval == 0.6)
        for secret in ["vonage-secret-1", "url-secret-1", "gw-secret-1"] { #expect(!f.everything.contains(secret)) }
    }

    @Test func smsMistakesAreErrorsAtTheirKeys() throws {
        let f = try Fixture(policies: ["a.yaml": policy(replacing: "channels:", with: """
            time_zone: Mars/Olympus
            channels:
              sms:
                provider: vonage
                api_key: "no spaces allowed"
                from: "+1 nope"
                audience: ../phones.csv
                rate: fast
                quiet_hours: 22-08
            """)], files: ["phones.csv": "name,phone\nAna,+44 7700 900123\n"])
        #expect(f.error("policies/a.yaml", "time_zone")?.hint?.contains("Europe/London") == true)
        #expect(f.error("policies/a.yaml", "channels.sms.api_key") != nil)
        #expect(f.error("policies/a.yaml", "channels.sms.from") != nil)
        #expect(f.error("policies/a.yaml", "channels.sms.rate")?.hint?.contains("10/s") == true)
        #expect(f.error("policies/a.yaml", "channels.sms.quiet_hours") != nil)
        #expect(f.diagnostics.errors.contains { $0.keyPath == "channels.sms" && $0.message.contains("api_secret") }, "\(f.everything)")
    }

    @Test func quietHoursEndWhereTheyShouldAcrossMidnightAndZones() throws {
        let q = try #require(QuietHours("22:00-08:00", timeZone: "America/New_York"))
        func at(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }
        // 23:30 in New York (04:30 UTC next day) → 08:00 New York (13:00 UTC).
        #expect(q.end(after: at("2026-11-30T04:30:00Z")) == at("2026-11-30T13:00:00Z"))
        // 07:59 in New York → one minute later.
        #expect(q.end(after: at("2026-11-30T12:59:00Z")) == at("2026-11-30T13:00:00Z"))
        // 08:00 and noon are outside.
        #expect(q.end(after: at("2026-11-30T13:00:00Z")) == nil && q.end(after: at("2026-11-30T17:00:00Z")) == nil)
        // 22:00 exactly is inside.
        #expect(q.end(after: at("2026-12-01T03:00:00Z")) == at("2026-12-01T13:00:00Z"))
        let day = try #require(QuietHours("12:00-14:00", timeZone: "UTC"))
        #expect(day.end(after: at("2026-11-30T13:00:00Z")) == at("2026-11-30T14:00:00Z"))
        #expect(day.end(after: at("2026-11-30T14:00:00Z")) == nil)
        #expect(QuietHours("25:00-08:00", timeZone: "UTC") == nil && QuietHours("08:00-08:00", timeZone: "UTC") == nil)
        #expect(SendRate("10/s")?.interval == 0.1 && SendRate("0/s") == nil && SendRate("10/fortnight") == nil)
    }
}
