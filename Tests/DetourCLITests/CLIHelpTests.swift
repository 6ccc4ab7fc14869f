import Foundation
import Testing
import TestKit

/// Every `--help` of the real binary, as an operator reads it in an 80-column terminal.
@Suite struct CLIHelpTests {
    /// Every command path, found by following the SUBCOMMANDS sections from `detour --help`.
    static func allCommands() throws -> [[String]] {
        var found: [[String]] = []
        var queue: [[String]] = [[]]
        while let command = queue.first {
            queue.removeFirst()
            found.append(command)
            let help = try DetourBinary.run(command + ["--help"], environment: ["COLUMNS": "80"]).stdout
            for name in section("SUBCOMMANDS", of: help).compactMap(label) where name != "help" {
                queue.append(command + [String(name.split(separator: " ")[0])])
            }
        }
        return found
    }

    /// The lines of one section (`OPTIONS:`, `SUBCOMMANDS:`…) up to the next blank line.
    static func section(_ name: String, of help: String) -> [Substring] {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: Substring("\(name):")) else { return [] }
        return Array(lines[(start + 1)...].prefix { !$0.isEmpty })
    }

    /// The label of an entry line (`  --for <duration>   How long…` → `--for <duration>`); nil for continuation lines.
    static func label(_ line: Substring) -> String? {
        guard line.hasPrefix("  "), line.dropFirst(2).first != " " else { return nil }
        let text = line.dropFirst(2)
        let end = text.range(of: "  ")?.lowerBound ?? text.endIndex
        return String(text[..<end])
    }

    @Test func everyHelpFitsEightyColumns() throws {
        let commands = try Self.allCommands()
        #expect(commands.count >= 15, "\(commands)")
        for command in commands {
            let r = try DetourBinary.run(command + ["--help"], environment: ["COLUMNS": "80"])
            #expect(r.status == 0, "\(command)")
            for line in r.stdout.split(separator: "\n") where line.count > 80 {
                Issue.record("detour \(command.joined(separator: " ")) --help: \(line.count) columns: \(line)")
            }
        }
    }

    /// The overview, the discussion and the usage are laid out by hand: at 80 columns they must read
    /// exactly as written, not re-wrapped mid-table by the argument parser.
    @Test func helpTextIsWrittenToEightyColumnsNotRewrapped() throws {
        for command in try Self.allCommands() {
            let narrow = try DetourBinary.run(command + ["--help"], environment: ["COLUMNS": "80"]).stdout
            let wide = try DetourBinary.run(command + ["--help"], environment: ["COLUMNS": "1000"]).stdout
            func head(_ help: String) -> Substring {
                let end = [help.range(of: "\nARGUMENTS:"), help.range(of: "\nOPTIONS:"), help.range(of: "\nSUBCOMMANDS:")]
                    .compactMap { $0?.lowerBound }.min() ?? help.endIndex
                return help[..<end]
            }
            #expect(head(narrow) == head(wide), "detour \(command.joined(separator: " ")) --help is re-wrapped at 80 columns")
        }
    }

    @Test func everyUsageNamesEveryOptionAndArgument() throws {
        for command in try Self.allCommands() {
            let help = try DetourBinary.run(command + ["--help"], environment: ["COLUMNS": "80"]).stdout
            guard let start = help.range(of: "USAGE: "), let end = help.range(of: "\n\n", range: start.upperBound..<help.endIndex) else {
                Issue.record("no usage in \(command)"); continue
            }
            let usage = help[start.upperBound..<end.lowerBound]
            let options = Self.section("OPTIONS", of: help).compactMap(Self.label)
                .flatMap { $0.split(separator: " ").filter { $0.hasPrefix("--") }.map { String($0.trimmingCharacters(in: [","])) } }
                .filter { !["--help", "--version"].contains($0) }
            let arguments = Self.section("ARGUMENTS", of: help).compactMap(Self.label)
            for name in options + arguments {
                #expect(usage.contains(name), "detour \(command.joined(separator: " ")): the usage does not mention \(name)")
            }
        }
    }

    @Test func failoverStartExplainsNewIncident() throws {
        let r = try DetourBinary.run(["failover", "start", "--help"], environment: ["COLUMNS": "80"])
        #expect(r.stdout.contains("--new-incident"))
        #expect(r.stdout.contains("cooldown"))
    }
}
