import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

/// `channels.sms` in a policy: what loads, and each mistake at its line and key.
@Suite struct SMSConfigTests {
    static func sms(_ body: String) -> String {
        policy(with: "  sms:\n" + body)
    }

    @Test func aTwilioChannelLoadsWithItsAudienceOfPhoneNumbers() throws {
        let f = try Fixture(policies: ["a.yaml": Self.sms("""
            provider: twilio
            account_sid: AC0123456789abcdef0123456789abcdef
            auth_token: env:TWILIO_AUTH_TOKEN
            from: "+44 7700 900100"
            audience: ../phones.csv
            max_per_customer: 3
            stop_file: ../stop.txt
        """)], files: ["phones.csv": "name,phone\nAna,+44 7700 900123\n"], environment: ["TWILIO_AUTH_TOKEN": "tok-secret-1"])
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        let sms = try #require(f.loaded?.policies.first?.sms)
        #expect(sms.maxPerCustomer == 3 && sms.audience.recipients.first?.phone == "+447700900123")
        #expect(sms.stopFile == f.dir.file("stop.txt"))
        guard case .twilio(let t) = sms.provider else { Issue.record("not twilio"); return }
        #expect(t.from == "+447700900100" && t.authToken.reveal() == "tok-secret-1" && t.baseURL == "https://api.twilio.com")
        #expect(!f.everything.contains("tok-secret-1"))
    }

    @Test func eachMistakeIsAnErrorAtItsKey() throws {
        let f = try Fixture(policies: ["a.yaml": Self.sms("""
            provider: twilio
            account_sid: ACnothex
            audience: ../emails.csv
        """), "b.yaml": Self.sms("    provider: nexmo\n    audience: ../phones.csv\n").replacingOccurrences(of: "rosies-bakery", with: "other")],
            files: ["emails.csv": "name,email\nAna,ana@example.com\n", "phones.csv": "name,phone\nAna,+44 7700 900123\n"])
        #expect(f.error("policies/a.yaml", "channels.sms.account_sid")?.hint?.contains("32 hexadecimal") == true)
        #expect(f.error("policies/a.yaml", "channels.sms.audience")?.message.contains("has no phone numbers") == true)
        let sms = f.diagnostics.errors.filter { $0.keyPath == "channels.sms" && $0.file == f.dir.file("policies/a.yaml") }
        #expect(sms.contains { $0.message.contains("auth_token") } && sms.contains { $0.message.contains("from") }, "\(f.everything)")
        #expect(f.error("policies/b.yaml", "channels.sms.provider") != nil)
    }

    @Test func aStopFileThatIsMissingOrHoldsWhatIsNotANumberIsWarnedAbout() throws {
        let body = """
            provider: twilio
            account_sid: AC0123456789abcdef0123456789abcdef
            auth_token: env:T
            from: "+44 7700 900100"
            audience: ../phones.csv
            stop_file: ../STOPFILE
        """
        let f = try Fixture(policies: ["a.yaml": Self.sms(body.replacingOccurrences(of: "STOPFILE", with: "stop.txt")),
                                       "b.yaml": Self.sms(body.replacingOccurrences(of: "STOPFILE", with: "missing.txt"))
                                           .replacingOccurrences(of: "rosies-bakery", with: "other")],
                            files: ["phones.csv": "name,phone\nAna,+44 7700 900123\n",
                                    "stop.txt": "# replied STOP\n+44 7700 900123\n07700 900456  # no country code\n\n"],
                            environment: ["T": "t"])
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        let warnings = f.diagnostics.warnings.filter { $0.keyPath == "channels.sms.stop_file" }
        #expect(warnings.contains { $0.message.contains("stop.txt:3: '07700 900456' is not a phone number") }, "\(f.everything)")
        #expect(warnings.contains { $0.message.contains("missing.txt does not exist") }, "\(f.everything)")
        #expect(warnings.count == 2)
    }
}
