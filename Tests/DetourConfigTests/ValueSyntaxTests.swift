import DetourCore
import Testing

@Suite struct ValueSyntaxTests {
    @Test(arguments: [("90s", 90_000), ("2m", 120_000), ("1h30m", 5_400_000), ("250ms", 250), ("1d", 86_400_000), ("1m30s", 90_000)])
    func durationsParse(text: String, ms: Int64) {
        #expect(TimeSpan(parsing: text)?.milliseconds == ms)
    }

    @Test(arguments: ["", "30", "5 minutes", "1m1h", "2mm", "-5s", "1.5h", "99999999999999h"])
    func malformedDurationsDoNot(text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test func durationsPrintInTheirShortestForm() {
        #expect(TimeSpan.seconds(90).description == "1m30s")
        #expect(TimeSpan.hours(2).description == "2h")
        #expect(TimeSpan(milliseconds: 1500).description == "1s500ms")
    }

    @Test func ratesParse() {
        #expect(Rate(parsing: "20/s")?.perSecond == 20)
        #expect(Rate(parsing: "600/m")?.perSecond == 10)
        #expect(Rate(parsing: "5/10s")?.perSecond == 0.5)
        #expect(Rate(parsing: "20/sec") == nil && Rate(parsing: "0/s") == nil && Rate(parsing: "fast") == nil)
    }

    @Test func quorumCounts() {
        #expect(Quorum.majority.isMet(failing: 2, of: 3) && !Quorum.majority.isMet(failing: 1, of: 2))
        #expect(Quorum.all.isMet(failing: 3, of: 3) && !Quorum.all.isMet(failing: 2, of: 3))
        #expect(Quorum.atLeast(2).isMet(failing: 2, of: 5) && Quorum.atLeast(9).isMet(failing: 3, of: 3))
    }

    @Test(arguments: ["a@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.ie"])
    func validAddresses(a: String) { #expect(EmailAddress.isValid(a)) }

    @Test(arguments: ["rosie@", "@example.com", "a@b", "a..b@example.com", "a b@example.com", "a@exa mple.com", "a@-x.com", "a@example.com\r\nBcc: x@y.z"])
    func invalidAddresses(a: String) { #expect(!EmailAddress.isValid(a)) }
}
