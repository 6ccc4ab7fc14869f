import DetourCore
import DetourProbes
import Foundation
import Testing
import TestKit

@Suite(.timeLimit(.minutes(1)))
struct TCPProbeTests {
    @Test func aListeningPortConnectsAndReportsItsConnectTime() async throws {
        // The blackhole accepts and never answers: for TCP that is a healthy connect.
        let server = try LocalServer(script: "tcp_blackhole.py", arguments: ["30"])
        let result = await TCPProbe(host: "127.0.0.1", port: server.port, timeout: .seconds(3)).run()
        #expect(result.verdict == .ok)
        #expect(result.detail.hasPrefix("connected to 127.0.0.1:\(server.port) in "))
        #expect(result.probe == "tcp 127.0.0.1:\(server.port)")
        #expect((result.timings?.connect ?? -1) >= 0)
    }

    @Test func aClosedPortIsConnectionRefused() async throws {
        let port = try Self.closedPort()
        let result = await TCPProbe(host: "127.0.0.1", port: port, timeout: .seconds(3)).run()
        #expect(result.verdict == .failing)
        #expect(result.detail == "connection refused")
    }

    @Test func aListenerThatNeverCompletesTheHandshakeTimesOut() async throws {
        let server = try LocalServer(script: "probe_full_backlog.py", arguments: ["30"])
        let started = ContinuousClock.now
        let result = await TCPProbe(host: "127.0.0.1", port: server.port, timeout: .init(milliseconds: 700)).run()
        let took = ContinuousClock.now - started
        #expect(result.verdict == .failing)
        #expect(result.detail == "timed out after 700ms")
        #expect(took >= .milliseconds(650) && took < .seconds(10))
    }

    @Test func aNameThatDoesNotResolveSaysSo() async {
        let result = await TCPProbe(host: "nothing.invalid", port: 443, timeout: .seconds(3)).run()
        #expect(result.verdict == .failing)
        #expect(result.detail == "dns: NXDOMAIN")
    }

    /// A port that nothing listens on: bind one, note it, close it.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw PortError() }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

struct PortError: Error {}
