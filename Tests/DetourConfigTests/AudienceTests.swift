import DetourConfig
import DetourCore
import Foundation
import Testing

@Suite struct AudienceTests {
    private func parse(_ csv: String) -> (Audience?, Diagnostics) {
        let d = Diagnostics()
        return (AudienceLoader.parse(Data(csv.utf8), file: "people.csv", diagnostics: d), d)
    }

    @Test func quotedFieldsCommasQuotesAndUnicodeSurvive() throws {
        let (a, d) = parse("email,name,locale\r\n\"a@example.com\",\"Smith, \"\"Jo\"\"\",en-GB\r\nb@example.de,Lena Müller,\n")
        #expect(d.all.isEmpty)
        #expect(a?.recipients == [Recipient(email: "a@example.com", name: "Smith, \"Jo\"", locale: "en-GB"),
                                  Recipient(email: "b@example.de", name: "Lena Müller", locale: nil)])
    }

    @Test func aHeaderWithoutEmailSuggestsTheColumn() {
        let (a, d) = parse("e-mail,name\nx@example.com,X\n")
        #expect(a == nil)
        #expect(d.errors.first?.message == "header lacks column email (or phone)")
        #expect(d.errors.first?.hint?.contains("did you mean 'email'") == true)
    }

    @Test func badRowsAreReportedWithLineAndColumn() throws {
        let (a, d) = parse("name,email\nAnn,ann@example.com\nBob,bob-at-example.com\nCy,cy@example.com,extra\n")
        #expect(a == nil)
        let bad = try #require(d.errors.first)
        #expect((bad.line, bad.column) == (3, 5))
        #expect(bad.message == "\"bob-at-example.com\" is not an email address")
        #expect(d.errors[1].line == 4 && d.errors[1].message.contains("3 fields"))
    }

    @Test func duplicateAddressesAreSkippedWithAWarning() {
        let (a, d) = parse("email,name\nA@example.com,A\na@example.com,A again\n")
        #expect(a?.recipients.count == 1)
        #expect(d.warnings.first?.message.contains("1 duplicate") == true)
    }

    @Test func aNameWithALineBreakIsRefused() {
        let (a, d) = parse("email,name\na@example.com,\"Evil\r\nBcc: x@y.z\"\n")
        #expect(a == nil)
        #expect(d.errors.first?.message == "name contains a line break")
    }

    @Test func manyBadRowsAreSummarised() {
        var csv = "email,name\n"
        for i in 0..<100 { csv += "bad\(i),X\n" }
        let (_, d) = parse(csv)
        #expect(d.errors.count == 21)
        #expect(d.errors.last?.message == "80 more rows with problems not shown")
    }

    @Test func anUnterminatedQuoteIsAnError() {
        let (a, d) = parse("email,name\n\"a@example.com,A\n")
        #expect(a == nil)
        #expect(d.errors.first?.message.contains("unterminated quoted field") == true)
    }

    @Test func phonesAreNormalisedAndARowMayHaveEitherOrBoth() throws {
        let (a, d) = parse("name,phone,email,sms_opt_out\nAna,+44 7700 900123,ana@example.com,no\nBen,0044 7700-900456,,\nChloé,,chloe@example.com,\nDev,+44 7700 900789,,yes\n")
        #expect(d.all.isEmpty, "\(d.all)")
        let r = try #require(a?.recipients)
        #expect(r.map(\.phone) == ["+447700900123", "+447700900456", nil, "+447700900789"])
        #expect(r.map(\.email) == ["ana@example.com", "", "chloe@example.com", ""])
        #expect(r.map(\.smsOptOut) == [false, false, false, true])
    }

    @Test func aNumberWithoutItsCountryCodeOrARowWithNeitherIsAnErrorAtItsLine() throws {
        let (a, d) = parse("name,phone\nAna,07700 900123\nBen,\nCy,+44 7700 900123\nDi,+44 7700 900123\n")
        #expect(a == nil)
        #expect(d.errors.count == 2)
        #expect(d.errors[0].line == 2 && d.errors[0].column == 5 && d.errors[0].message.contains("international form"), "\(d.errors)")
        #expect(d.errors[0].hint?.contains("+44 7700 900123") == true)
        #expect(d.errors[1].line == 3 && d.errors[1].message.contains("neither an email address nor a phone number"))
        let (dup, dd) = parse("name,phone\nCy,+44 7700 900123\nDi,+447700900123\n")
        #expect(dup?.recipients.count == 1 && dd.warnings.first?.message.contains("1 duplicate") == true)
    }
}
