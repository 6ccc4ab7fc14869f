import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

/// A daemon file and policies written to a fresh temporary directory, then loaded like `detour policy check` does.
struct Fixture {
    let dir: TempDir
    let loaded: LoadedConfiguration?
    let diagnostics: Diagnostics

    static let minimalDaemon = """
    policies: policies
    smtp:
      relay:
        url: smtp://127.0.0.1:2525
        starttls: off
    """

    static let minimalPolicy = """
    business: rosies-bakery
    name: Rosie's Bakery
    depends_on: [instagram]
    message:
      outage: Order by phone.
    channels:
      banner:
        publish_dir: site
    """

    init(daemon: String = Fixture.minimalDaemon, policies: [String: String] = ["a.yaml": Fixture.minimalPolicy],
         files: [String: String] = [:], environment: [String: String] = [:]) throws {
        dir = try TempDir("detour-config")
        try dir.write("detour.yaml", daemon)
        try FileManager.default.createDirectory(atPath: dir.file("policies"), withIntermediateDirectories: true)
        for (name, text) in policies { try dir.write("policies/\(name)", text) }
        for (name, text) in files { try dir.write(name, text, mode: 0o600) }
        (loaded, diagnostics) = ConfigLoader(environment: environment).load(configPath: dir.file("detour.yaml"))
    }

    /// The one error at `file` (relative to the fixture) with this key path; fails the test if there is none.
    func error(_ file: String, _ keyPath: String, sourceLocation: SourceLocation = #_sourceLocation) -> Diagnostic? {
        let path = dir.file(file)
        let found = diagnostics.errors.first { $0.file == path && $0.keyPath == keyPath }
        if found == nil {
            Issue.record("no error at \(file) \(keyPath); got:\n\(diagnostics.sorted.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
        }
        return found
    }

    var everything: String { diagnostics.sorted.map(\.description).joined(separator: "\n") }
}

/// A policy with one line replaced or added, for error tests.
func policy(replacing old: String? = nil, with new: String) -> String {
    guard let old else { return Fixture.minimalPolicy + "\n" + new }
    return Fixture.minimalPolicy.replacingOccurrences(of: old, with: new)
}
