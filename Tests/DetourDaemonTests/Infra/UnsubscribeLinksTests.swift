import DetourCore
@testable import DetourDaemon
import Foundation
import Testing
import TestKit

@Suite struct UnsubscribeLinksTests {
    private let links = UnsubscribeLinks(publicURL: "https://detour.example.com/", key: Array(repeating: 7, count: 32))
    private let business = BusinessID("rosies-bakery")

    /// The query of `url` as a dictionary.
    private func query(_ url: String) throws -> [String: String] {
        let items = try #require(URLComponents(string: url)?.queryItems)
        return Dictionary(uniqueKeysWithValues: items.map { ($0.name, $0.value ?? "") })
    }

    @Test func aLinkVerifiesBackToItsEmailAddress() throws {
        let url = links.url(business: business, email: "ana+news@example.org")
        #expect(url.hasPrefix("https://detour.example.com/unsubscribe?b=rosies-bakery&e="))
        let q = try query(url)
        #expect(links.verify(business: business, emailToken: try #require(q["e"]), token: try #require(q["t"])) == "ana+news@example.org")
    }

    @Test func aLinkDoesNotVerifyForAnotherBusinessAnotherAddressOrAnotherKey() throws {
        let q = try query(links.url(business: business, email: "ana@example.org"))
        let (e, t) = (try #require(q["e"]), try #require(q["t"]))
        #expect(links.verify(business: BusinessID("other-shop"), emailToken: e, token: t) == nil)
        let otherEmail = UnsubscribeLinks.base64URL(Data("bob@example.org".utf8))
        #expect(links.verify(business: business, emailToken: otherEmail, token: t) == nil)
        let otherKey = UnsubscribeLinks(publicURL: "https://detour.example.com", key: Array(repeating: 8, count: 32))
        #expect(otherKey.verify(business: business, emailToken: e, token: t) == nil)
        #expect(links.verify(business: business, emailToken: e, token: "not base64!") == nil)
        #expect(links.verify(business: business, emailToken: e, token: String(t.dropLast(2))) == nil)
    }

    @Test func theKeyFileIsCreatedPrivateOnceAndReadOnLaterStarts() throws {
        let tmp = try TempDir()
        let path = tmp.file("unsubscribe.key")
        let first = try UnsubscribeLinks.loadOrCreateKey(at: path)
        #expect(first.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try UnsubscribeLinks.loadOrCreateKey(at: path) == first)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == ["unsubscribe.key"])
    }

    @Test func aKeyFileOfTheWrongLengthIsAnErrorNamingThePath() throws {
        let tmp = try TempDir()
        let path = try tmp.write("unsubscribe.key", "short")
        let error = #expect(throws: UnsubscribeKeyError.self) { try UnsubscribeLinks.loadOrCreateKey(at: path) }
        #expect(error?.description.hasPrefix("unsubscribe key \(path): it holds 5 bytes") == true)
    }

    @Test func aKeyInAMissingDirectoryIsAnErrorNamingThePath() throws {
        let tmp = try TempDir()
        let path = tmp.file("missing/unsubscribe.key")
        let error = #expect(throws: UnsubscribeKeyError.self) { try UnsubscribeLinks.loadOrCreateKey(at: path) }
        #expect(error?.path == path)
        #expect(error?.description.contains("No such file or directory") == true)
    }
}

@Suite struct Base64URLTests {
    @Test func matchesFoundationsBase64WithTheURLAlphabetAndNoPadding() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let expected = data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(UnsubscribeLinks.base64URL(data) == expected, "length \(length)")
            #expect(UnsubscribeLinks.fromBase64URL(expected) == (length == 0 ? nil : data))
        }
    }
}
