import Foundation
import Testing
import TestKit

/// Issue #7's outage drills (`examples/drills/run.sh NAME`): each runs the real `detour run` against
/// local stand-ins, narrates what happened and ends with `PASS NAME` or `FAIL NAME: why`.
/// Every drill is bounded (< 60 s); the subprocess is killed after `timeout` seconds.
@Suite(.serialized) struct DrillTests {
    @Test func dnsOutage() throws { try drill("dns-outage") }
    @Test func loginPath() throws { try drill("login-path") }
    @Test func fiveHundredsAndTimeouts() throws { try drill("5xx-and-timeouts") }
    @Test func ourNetworkDown() throws { try drill("our-network-down") }
    @Test func flapping() throws { try drill("flapping") }
    @Test func manualDuringFalseNegative() throws { try drill("manual-during-false-negative") }

    static func drill(_ name: String, script: String = "examples/drills/run.sh", timeout: Double = 120) throws {
        let r = try runDrill(name, script: script, timeout: timeout)
        #expect(r.status == 0 && r.output.contains("PASS \(name)"),
                "drill \(name) exited \(r.status); its output:\n\(r.output.suffix(6000))")
    }

    private func drill(_ name: String) throws { try Self.drill(name) }

    private static func runDrill(_ name: String, script: String, timeout: Double) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Repo.path(script), name]
        var env = ProcessInfo.processInfo.environment
        env["DETOUR_BIN"] = DetourBinary.path
        if Repo.python != "/usr/bin/env" { env["DETOUR_PYTHON"] = Repo.python }
        env.removeValue(forKey: "DETOUR_CONFIG")
        env.removeValue(forKey: "NOTIFY_SOCKET")
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let box = OutputBox()
        let reader = Thread { box.set(out.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { usleep(50_000) }
        if p.isRunning {
            p.terminate() // run.sh's trap stops the drill and everything it started
            let grace = Date().addingTimeInterval(15)
            while p.isRunning, Date() < grace { usleep(50_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        let readDeadline = Date().addingTimeInterval(10)
        while !box.done, Date() < readDeadline { usleep(10_000) }
        let status = p.terminationReason == .uncaughtSignal ? -p.terminationStatus : p.terminationStatus
        return (status, String(decoding: box.data, as: UTF8.self))
    }
}

/// Issue #15's cluster drills (`examples/cluster/run.sh NAME`): three real nodes on one PostgreSQL
/// database (the suite's server, `DETOUR_TEST_POSTGRES_URL`, or a throwaway one of the script's),
/// one failure each, ending with `PASS NAME` or `FAIL NAME: why`.
@Suite(.serialized) struct ClusterScriptDrillTests {
    @Test func leaderKilledMidFanOutOf20000() throws { try DrillTests.drill("leader-kill", script: "examples/cluster/run.sh", timeout: 320) }
    @Test func leaderFrozenPastItsLease() throws { try DrillTests.drill("leader-freeze", script: "examples/cluster/run.sh", timeout: 230) }
    @Test func databaseRestartMidFanOut() throws { try DrillTests.drill("database-restart", script: "examples/cluster/run.sh", timeout: 380) }
    @Test func aNodeWhoseNetworkIsDownAbstains() throws {
        try DrillTests.drill("network-down-abstains", script: "examples/cluster/run.sh", timeout: 230)
    }
    @Test func oneNodeSeeingThePlatformDownIsNotEnough() throws {
        try DrillTests.drill("one-node-sees-down", script: "examples/cluster/run.sh", timeout: 230)
    }
}

private final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Data()
    private var finished = false
    func set(_ d: Data) { lock.lock(); value = d; finished = true; lock.unlock() }
    var data: Data { lock.lock(); defer { lock.unlock() }; return value }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
}
