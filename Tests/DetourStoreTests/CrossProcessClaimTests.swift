import DetourCore
import DetourStore
import Foundation
import Testing
import TestKit

/// Several real processes claim from one state file at once, as several daemons (or a daemon and the
/// CLI) would; each runs the hidden `detour-bench store-claimer` subcommand.
@Suite struct CrossProcessClaimTests {
    @Test func claimersInSeveralProcessesNeverGetTheSameDelivery() async throws {
        let f = try await StoreFixture()
        let rows = 1500
        try await f.open(emails: rows, at: Date().addingTimeInterval(-60))
        let bench = try benchBinary()
        let start = Date().timeIntervalSince1970 + 1.0
        let owners = ["claimer-1", "claimer-2", "claimer-3"]
        var processes: [(owner: String, process: Process, output: String)] = []
        for owner in owners {
            let output = f.dir.file("\(owner).out"), errors = f.dir.file("\(owner).err")
            for file in [output, errors] { _ = FileManager.default.createFile(atPath: file, contents: nil) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: bench)
            p.arguments = ["store-claimer", f.path, owner, String(start)]
            p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
            p.standardInput = FileHandle.nullDevice
            try p.run()
            processes.append((owner, p, output))
        }
        let deadline = Date().addingTimeInterval(120)
        while processes.contains(where: { $0.process.isRunning }), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        for (_, p, _) in processes where p.isRunning { p.terminate() }

        var claimedBy: [Int64: [String]] = [:]
        var perOwner: [String: Int] = [:]
        for (owner, p, output) in processes {
            p.waitUntilExit()
            let err = (try? String(contentsOfFile: f.dir.file("\(owner).err"), encoding: .utf8)) ?? ""
            #expect(p.terminationStatus == 0, "\(owner) exited with \(p.terminationStatus): \(err)")
            let ids = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").compactMap { Int64($0) }
            perOwner[owner] = ids.count
            for id in ids { claimedBy[id, default: []].append(owner) }
        }
        let twice = claimedBy.filter { $0.value.count > 1 }
        #expect(twice.isEmpty, "claimed by more than one process: \(twice.prefix(5))")
        #expect(claimedBy.count == rows, "claims per process: \(perOwner)")
        #expect(perOwner.values.filter { $0 > 0 }.count >= 2, "the claimers did not overlap: \(perOwner)")
        let depth = try await f.store.queueDepth()
        #expect(depth[.sent] == rows && depth[.sending] == 0 && depth[.queued] == 0)
        let attempts = try await f.store.deliveries(DeliveryFilter(limit: rows)).map(\.attempts)
        #expect(attempts.allSatisfy { $0 == 1 })
    }

    /// `detour-bench` built beside this test bundle (`$DETOUR_BENCH_BIN` overrides).
    private func benchBinary() throws -> String {
        if let p = ProcessInfo.processInfo.environment["DETOUR_BENCH_BIN"], !p.isEmpty { return p }
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            // On macOS the runner sits inside the .xctest bundle; walk up to the build folder.
            while dir.path.contains(".xctest") { dir.deleteLastPathComponent() }
            candidates.append(dir.appendingPathComponent("detour-bench").path)
        }
        candidates.append(Repo.path(".build/debug/detour-bench"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BenchBinaryMissing(description: "detour-bench not found at \(candidates); run `swift build --build-tests` first")
        }
        return found
    }
}

private struct BenchBinaryMissing: Error, CustomStringConvertible {
    let description: String
}
