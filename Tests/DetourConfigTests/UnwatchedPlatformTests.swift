import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

/// A policy that depends on a platform the daemon file stops watching (`watch: false`).
@Suite struct UnwatchedPlatformTests {
    static let daemonWithoutInstagram = Fixture.minimalDaemon + """

    platforms:
      instagram:
        watch: false
    """

    @Test func dependingOnAnUnwatchedPlatformSaysWhereItIsTurnedOff() throws {
        let f = try Fixture(daemon: Self.daemonWithoutInstagram)
        let e = try #require(f.error("policies/a.yaml", "depends_on[0]"))
        #expect(e.message == "platform 'instagram' is not watched: `watch: false` in \(f.dir.file("detour.yaml")):8")
        #expect(e.hint?.contains("watch: true") == true)
        #expect(!e.message.contains("unknown platform"))
        #expect(f.loaded == nil)
    }

    @Test func whenNoPlatformIsWatchedTheHintNamesNoEmptyList() throws {
        let off = PlatformID.builtIn.map { "  \($0.rawValue):\n    watch: false" }.joined(separator: "\n")
        let f = try Fixture(daemon: Fixture.minimalDaemon + "\nplatforms:\n" + off,
                            policies: ["a.yaml": policy(replacing: "depends_on: [instagram]", with: "depends_on: [instagam]")])
        let e = try #require(f.error("policies/a.yaml", "depends_on[0]"))
        #expect(e.message == "unknown platform 'instagam'")
        let hint = try #require(e.hint)
        #expect(!hint.contains("here: ;"), "\(hint)")
        #expect(!hint.contains(": ;"), "\(hint)")
        #expect(hint.contains("no platform is watched"), "\(hint)")
        #expect(hint.contains("instagram"), "names the platforms turned off: \(hint)")
    }

    @Test func aMisspeltPlatformStillGetsASuggestion() throws {
        let f = try Fixture(daemon: Self.daemonWithoutInstagram,
                            policies: ["a.yaml": policy(replacing: "depends_on: [instagram]", with: "depends_on: [whatsap]")])
        let e = try #require(f.error("policies/a.yaml", "depends_on[0]"))
        #expect(e.message == "unknown platform 'whatsap'")
        #expect(e.hint?.hasPrefix("did you mean 'whatsapp'?") == true)
    }
}
