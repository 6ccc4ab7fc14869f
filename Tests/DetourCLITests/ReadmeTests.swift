import Foundation
import Testing
import TestKit

/// The README's commands, run as written from the repository's root.
@Suite struct ReadmeTests {
    /// The `detour …` lines of the first `sh` block under a README heading, without their comments.
    static func commands(under heading: String) throws -> [String] {
        let text = try String(contentsOfFile: Repo.path("README.md"), encoding: .utf8)
        guard let section = text.range(of: "\n## \(heading)\n") else { throw ReadmeError("no section \"\(heading)\" in README.md") }
        let rest = text[section.upperBound...]
        guard let open = rest.range(of: "```sh\n"), let close = rest.range(of: "\n```", range: open.upperBound..<rest.endIndex) else {
            throw ReadmeError("no sh block under \"\(heading)\"")
        }
        return rest[open.upperBound..<close.lowerBound].split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("detour ") }
            .map { withoutComment($0) }
    }

    /// `cmd args   # what it does` → `cmd args` (a `#` inside quotes stays).
    static func withoutComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for i in line.indices {
            let c = line[i]
            if let q = quote { if c == q { quote = nil } }
            else if c == "\"" || c == "'" { quote = c }
            else if c == "#", previous == " " { return String(line[..<i]).trimmingCharacters(in: .whitespaces) }
            previous = c
        }
        return line.trimmingCharacters(in: .whitespaces)
    }

    /// Shell words, with "double" and 'single' quotes.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        for c in line {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c; inWord = true
            } else if c == " " {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(c); inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// Runs the binary with `args` in the repository's root, as a reader of the README would.
    static func runInRepo(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DetourBinary.path)
        p.arguments = args
        p.currentDirectoryURL = Repo.root
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DETOUR_CONFIG")
        p.environment = env
        let out = try TempDir()
        let file = out.file("output")
        FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning, Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        try handle.close()
        return (p.terminationStatus, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
    }

    @Test func everyOfflineCommandOfUsingItRunsAsWritten() throws {
        let lines = try Self.commands(under: "Using it")
        // Those that need neither a running daemon nor the network: checking and showing files, help.
        let offline = lines.map(Self.words).filter { $0.count > 1 && ($0[1] == "policy" || $0.contains("--help")) }
        #expect(offline.contains { $0.starts(with: ["detour", "policy", "check"]) })
        #expect(offline.contains { $0.starts(with: ["detour", "policy", "show"]) })
        #expect(offline.contains { $0 == ["detour", "--help"] })
        for words in offline {
            let r = try Self.runInRepo(Array(words.dropFirst()))
            #expect(r.status == 0, "`\(words.joined(separator: " "))` exits \(r.status):\n\(r.output)")
        }
    }

    @Test func theExampleDaemonFilePointsAtAREADMESectionThatExists() throws {
        let config = try String(contentsOfFile: Repo.path("examples/detour.yaml"), encoding: .utf8)
        let readme = try String(contentsOfFile: Repo.path("README.md"), encoding: .utf8)
        let pointers = config.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: "README, \"") else { return nil }
            return line[r.upperBound...].split(separator: "\"").first.map(String.init)
        }
        #expect(!pointers.isEmpty)
        for section in pointers {
            #expect(readme.contains("\n## \(section)\n"), "examples/detour.yaml points at README section \"\(section)\", which does not exist")
        }
    }
}

struct ReadmeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
