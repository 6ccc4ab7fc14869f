import DetourConfig
import Foundation
import Testing
import TestKit

/// Hostile files fail with a clean error, in bounded time and memory.
@Suite struct HostileInputTests {
    private func check(_ text: String) throws -> (Diagnostics, Duration) {
        try check(Data(text.utf8))
    }

    private func check(_ data: Data) throws -> (Diagnostics, Duration) {
        let dir = try TempDir()
        try dir.write("detour.yaml", Fixture.minimalDaemon)
        let file = try dir.write("policies/evil.yaml", data)
        var result: Diagnostics?
        let elapsed = ContinuousClock().measure {
            result = ConfigLoader(environment: [:]).load(configPath: dir.file("detour.yaml")).1
        }
        _ = file
        return (try #require(result), elapsed)
    }

    @Test func aYAMLAliasBombIsRefused() throws {
        var text = "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
        for i in 1...12 { text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        text += "business: *a12\n"
        let (d, elapsed) = try check(text)
        #expect(d.errors.contains { $0.message.contains("anchors and aliases") })
        #expect(elapsed < .seconds(5))
    }

    @Test func aDeeplyNestedDocumentIsRefused() throws {
        let (d, elapsed) = try check("business: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
        #expect(d.errors.contains { $0.message == "nesting is too deep" }, "\(d.all)")
        #expect(elapsed < .seconds(5))
    }

    @Test func deepBlockIndentationIsRefused() throws {
        var text = ""
        for i in 0..<300 { text += String(repeating: " ", count: i) + "k\(i):\n" }
        let (d, _) = try check(text)
        #expect(d.errors.contains { $0.message.hasPrefix("nesting is too deep") })
    }

    @Test func aHugeFileIsRefusedWithoutReadingItAll() throws {
        let (d, elapsed) = try check(Data(repeating: UInt8(ascii: "#"), count: 50 << 20))
        #expect(d.errors.contains { $0.message.hasPrefix("file is larger than") })
        #expect(elapsed < .seconds(5))
    }

    @Test func binaryGarbageIsRefused() throws {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) } + [0]
        let (d, _) = try check(Data(bytes))
        #expect(d.errors.contains { $0.message.contains("NUL byte") || $0.message.contains("not valid UTF-8") })
    }

    @Test func nonUTF8TextIsRefusedAtItsPosition() throws {
        let latin1 = Data("business: caf".utf8) + Data([0xE9]) + Data("\n".utf8)
        let (d, _) = try check(latin1)
        let e = try #require(d.errors.first { $0.message == "file is not valid UTF-8" })
        #expect((e.line, e.column) == (1, 14))
    }

    @Test func tabsInIndentationAreRefusedWithTheFix() throws {
        let (d, _) = try check("business: x\nchannels:\n\tbanner: {}\n")
        let e = try #require(d.errors.first { $0.message == "tab character in indentation" })
        #expect((e.line, e.column) == (3, 1))
        #expect(e.hint?.contains("spaces") == true)
    }

    @Test func aYAMLSyntaxErrorHasAPosition() throws {
        let (d, _) = try check("business: x\nname: [unclosed\n")
        let e = try #require(d.errors.first { $0.message.hasPrefix("YAML syntax") })
        #expect(e.line >= 2)
    }

    @Test func duplicateKeysAreRefused() throws {
        let (d, _) = try check("business: a\nbusiness: b\n")
        #expect(d.errors.contains { $0.message.contains("duplicate key 'business'") })
    }

    @Test func anEmptyFileIsAnError() throws {
        let (d, _) = try check("")
        #expect(d.errors.contains { $0.message == "file is empty" })
    }

    @Test func aMultiDocumentStreamIsRefused() throws {
        let (d, _) = try check("business: a\n---\nbusiness: b\n")
        #expect(d.hasErrors)
    }
}
