import Testing
@testable import DetourTransport

@Suite struct ParsingTests {
    @Test func headersLookUpCaseInsensitivelyAndKeepEveryValue() {
        var headers = HTTPHeaders()
        for line in ["HTTP/1.1 200 OK\r\n", "Set-Cookie: a=1\r\n", "content-type:  text/plain \r\n",
                     "set-cookie: b=2\r\n", "\r\n"] {
            if let field = HTTPHeaders.parseLine(line) { headers.add(field.name, field.value) }
        }
        #expect(headers.count == 3)
        #expect(headers["CONTENT-TYPE"] == "text/plain")
        #expect(headers["set-cookie"] == "a=1")
        #expect(headers.values(for: "Set-Cookie") == ["a=1", "b=2"])
        #expect(headers["missing"] == nil)
    }

    @Test func multiLineRepliesBecomeOneReply() {
        var reader = SMTPReplyReader()
        reader.feed("220 detour-test ESMTP\r\n")
        reader.feed("250-detour-test\r\n")
        reader.feed("250-STARTTLS\r\n250 HELP\r\n")
        reader.feed("550 5.1.1 <x@example.test>: no such user\r\n")
        #expect(reader.replies == [
            SMTPReply(code: 220, text: "detour-test ESMTP"),
            SMTPReply(code: 250, text: "detour-test\nSTARTTLS\nHELP"),
            SMTPReply(code: 550, text: "5.1.1 <x@example.test>: no such user"),
        ])
    }

    @Test func settingsNeverPrintThePassword() {
        let settings = SMTPSettings(url: "smtp://mail.example.test:587/path", username: "u", password: "pa55-secret")
        for text in ["\(settings)", String(reflecting: settings), String(describing: Mirror(reflecting: settings).children.map(\.value))] {
            #expect(!text.contains("pa55-secret"))
        }
        #expect("\(settings)".contains("smtp://mail.example.test:587/"))
    }

    @Test func durationsReadLikePeopleWriteThem() {
        #expect(describeSeconds(.seconds(10)) == "10s")
        #expect(describeSeconds(.milliseconds(2500)) == "2.5s")
        #expect(describeSeconds(.milliseconds(250)) == "250ms")
        #expect(Duration.microseconds(10).curlMilliseconds == 1)
    }
}
