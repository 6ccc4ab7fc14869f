import DetourChannels
import DetourCore
@testable import DetourDaemon
import DetourTransport
import Foundation
import Synchronization
import Testing
import TestKit

/// A clock the test moves by hand.
private final class HandClock: Sendable {
    private let at = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { at.withLock { $0 } }
    func advance(_ d: Duration) { at.withLock { $0 = $0.advanced(by: d) } }
}

@Suite struct HeartbeatsTests {
    @Test func aLoopThatBeatsWithinItsLimitIsNotStalled() {
        let clock = HandClock()
        let beats = Heartbeats(now: { clock.now })
        beats.register("decision", limit: .seconds(20))
        for _ in 0..<5 {
            clock.advance(.seconds(15))
            beats.beat("decision")
        }
        #expect(beats.stalls().isEmpty)
    }

    @Test func aLoopSilentPastItsLimitIsNamedAsStalled() {
        let clock = HandClock()
        let beats = Heartbeats(now: { clock.now })
        beats.register("decision", limit: .seconds(20))
        beats.register("delivery.email", limit: .seconds(20))
        clock.advance(.seconds(15))
        beats.beat("delivery.email")
        clock.advance(.seconds(10))
        let stalls = beats.stalls()
        #expect(stalls.map(\.loop) == ["decision"])
        #expect(stalls.first?.description == "decision has not turned for 25 s (limit 20 s)")
    }

    @Test func anUnregisteredLoopIsNoLongerWatched() {
        let clock = HandClock()
        let beats = Heartbeats(now: { clock.now })
        beats.register("delivery.banner", limit: .seconds(1))
        beats.unregister("delivery.banner")
        clock.advance(.seconds(60))
        #expect(beats.stalls().isEmpty)
        #expect(beats.loops.isEmpty)
    }

    @Test func healthzIs503NamingTheStuckLoopAnd200OnceItTurns() async throws {
        let clock = HandClock()
        let beats = Heartbeats(now: { clock.now })
        beats.register("decision", limit: .seconds(20))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let client = CurlHTTPClient(logger: InfraSupport.logger)
        defer { client.shutdown() }
        let listener = HTTPListenerService(
            host: "127.0.0.1", port: 0, banners: BannerState(), metrics: DetourMetrics(), readiness: { true },
            stalls: { beats.stalls() }, unsubscribe: UnsubscribeLinks(publicURL: "http://127.0.0.1", key: Array(repeating: 1, count: 32)),
            onUnsubscribe: { _, _ in }, logger: InfraSupport.logger, onServerRunning: { continuation.yield($0) })
        try await InfraSupport.running([listener]) {
            let port = try await InfraSupport.first(ports)
            let url = "http://127.0.0.1:\(port)/healthz"
            let healthy = try await client.send(HTTPRequest(url: url, method: "GET", timeout: .seconds(5)))
            #expect(healthy.status == 200)
            clock.advance(.seconds(30))
            let stuck = try await client.send(HTTPRequest(url: url, method: "GET", timeout: .seconds(5)))
            #expect(stuck.status == 503)
            #expect(String(decoding: stuck.body, as: UTF8.self).contains("decision has not turned for 30 s"))
            beats.beat("decision")
            let again = try await client.send(HTTPRequest(url: url, method: "GET", timeout: .seconds(5)))
            #expect(again.status == 200)
        }
    }

    @Test func theWatchdogSendsNoKeepAliveWhileALoopIsStuck() async throws {
        let tmp = try TempDir()
        let receiver = try DatagramReceiver(path: tmp.file("notify.sock"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.path])
        let stuck = Mutex(true)
        let watchdog = WatchdogService(notifier: notifier, interval: .milliseconds(20), clock: ContinuousClock(),
                                       stalls: { stuck.withLock { $0 } ? [Heartbeats.Stall(loop: "decision", silentFor: .seconds(30), limit: .seconds(20))] : [] })
        try await InfraSupport.running([watchdog]) {
            // Stuck: ten intervals pass and systemd hears nothing.
            let during = try await InfraSupport.blocking { receiver.receive(timeout: .milliseconds(200)) }
            #expect(during == nil)
            stuck.withLock { $0 = false }
            let after = try await InfraSupport.blocking { receiver.receive(timeout: .seconds(2)) }
            #expect(after == "WATCHDOG=1")
        }
    }

    @Test func metricsHaveEveryWatchedPlatformTheBuildAndTheProcessFromTheStart() throws {
        let metrics = DetourMetrics(platforms: [PlatformID("acme"), PlatformID("instagram")], version: "9.9.9", startTime: 1_700_000_000)
        let text = metrics.render()
        #expect(text.contains("detour_platform_state{platform=\"acme\",state=\"unknown\"} 1"))
        #expect(text.contains("detour_platform_state{platform=\"instagram\",state=\"operational\"} 0"))
        #expect(text.contains("detour_build_info{version=\"9.9.9\"} 1"))
        #expect(text.contains("process_start_time_seconds 1700000000"))
        #expect(text.contains("detour_delivery_leases_held 0"))
        #expect(text.contains("detour_oldest_due_delivery_age_seconds 0"))
        for name in ["process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "process_max_fds"] {
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            let value = line.flatMap { Double($0.split(separator: " ").last ?? "") }
            #expect((value ?? 0) > 0 || name == "process_cpu_seconds_total", "\(name): \(line ?? "missing")")
        }
    }

    @Test func procStatIsParsedPastACommandNameWithSpacesAndParentheses() throws {
        let line = "4242 (detour (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 123456789 3000 18446744073709551615"
        let stat = try #require(ProcessMetrics.parseStat(line))
        #expect(stat.utime == 250 && stat.stime == 50)
        #expect(stat.vsize == 123456789 && stat.rss == 3000)
    }
}
