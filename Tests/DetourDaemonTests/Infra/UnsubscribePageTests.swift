import DetourChannels
@testable import DetourDaemon
import Foundation
import Logging
import Testing

/// How the unsubscribe page reads a POST body (Hummingbird's `URLEncodedFormDecoder`). The pages
/// themselves are tested over HTTP in `HTTPListenerTests`.
@Suite struct UnsubscribePageTests {
    private let page = UnsubscribePage(links: UnsubscribeLinks(publicURL: "http://127.0.0.1", key: Array(repeating: 3, count: 32)),
                                       onUnsubscribe: { _, _ in }, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))

    @Test func aOneClickBodyDecodes() {
        #expect(page.decodeForm("List-Unsubscribe=One-Click") == .init(listUnsubscribe: "One-Click"))
    }

    @Test func formValuesDecodePlusAsSpaceAndPercentEscapes() {
        let form = page.decodeForm("b=rosies%2Dbakery&e=YW5h%40&t=a%2Bb+c&List-Unsubscribe=One+Click")
        #expect(form == .init(b: "rosies-bakery", e: "YW5h@", t: "a+b c", listUnsubscribe: "One Click"))
    }

    @Test func otherFieldsAreIgnored() {
        let form = page.decodeForm("utm_source=mail&b=rosies-bakery&flag&nested[a]=1&list[]=x&list[]=y&List-Unsubscribe=One-Click&empty=")
        #expect(form == .init(b: "rosies-bakery", listUnsubscribe: "One-Click"))
    }

    @Test func anEmptyBodyIsAnEmptyForm() {
        #expect(page.decodeForm("") == .init())
    }

    @Test func aBodyThatDoesNotDecodeIsNoForm() {
        // Repeated fields and broken escapes: the page then goes by the query alone.
        #expect(page.decodeForm("b=one&b=two") == nil)
        #expect(page.decodeForm("b=%zz") == nil)
    }

    @Test func everyPageTemplateIsBuiltIn() throws {
        for template in UnsubscribePage.Page.allCases.map(\.template) {
            #expect(throws: Never.self) { try TemplateRenderer.builtin(template) }
        }
    }
}
