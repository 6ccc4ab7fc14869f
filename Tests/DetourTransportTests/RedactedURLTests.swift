import Testing
@testable import DetourTransport

@Suite struct RedactedURLTests {
    @Test func keepsSchemeHostAndPortOnly() {
        #expect(redactedURL("https://user:pw@hooks.example.com/services/T0/B1/secret?token=abc#frag")
            == "https://hooks.example.com:443/")
        #expect(redactedURL("http://127.0.0.1:8080/a?b=c") == "http://127.0.0.1:8080/")
        #expect(redactedURL("smtp://mail.example.com") == "smtp://mail.example.com:25/")
        #expect(redactedURL("http://[::1]:9/x") == "http://[::1]:9/")
    }

    @Test func invalidURLsRevealNothing() {
        #expect(redactedURL("not a url with secret") == "<invalid url>")
        #expect(redactedURL("") == "<invalid url>")
    }
}
