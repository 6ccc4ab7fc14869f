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
        #expect(d.errors.first?.message == "header lacks column email")
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
}
