import DetourCore
import DetourProbes
import Foundation
import Logging
import Testing
import TestKit

@Suite(.timeLimit(.minutes(1)))
struct ProbeSchedulerTests {
    let logger = Logger(label: "test.scheduler", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func aHangingProbeDelaysNeitherTheOtherPlatformNorItsSiblings() async throws {
        let dir = try TempDir()
        let server = try HTTPStandIn(routes: ["/ok": ["status": 200, "body": "fine"]], in: dir)
        let stuck = ScheduledPlatform(id: .facebook, interval: .minutes(1), jitter: 0, probes: [
            ScheduledProbe(label: "stuck", timeout: .seconds(6), probe: StuckProbe()),
            ScheduledProbe(label: "stuck feed", timeout: .seconds(6), corroborating: true, probe: StuckProbe()),
            ScheduledProbe(spec: ProbeSpec(.dns(host: "localhost")), defaultTimeout: .seconds(3), fetcher: SocketHTTPFetcher()),
        ])
        let healthy = ScheduledPlatform(id: .instagram, interval: .minutes(1), jitter: 0, probes: [
            ScheduledProbe(spec: ProbeSpec(.http(HTTPCheck(url: server.baseURL + "/ok"))), defaultTimeout: .seconds(3),
                           fetcher: SocketHTTPFetcher()),
        ])
        let scheduler = ProbeScheduler(platforms: [stuck, healthy], controls: [], clock: ContinuousClock(), logger: logger)
        let log = RoundLog()
        let started = ContinuousClock.now
        let running = Task { await scheduler.run { log.append($0) } }

        #expect(await eventually(within: .seconds(30)) { log.rounds.count == 2 })
        let rounds = log.rounds
        #expect(rounds.map(\.platform) == [.instagram, .facebook])
        let arrivals = log.arrivals
        try #require(arrivals.count >= 2, "\(arrivals.count) rounds arrived")
        let instagramAfter = arrivals[0] - started
        #expect(instagramAfter < .seconds(5), "the healthy platform waited for the stuck one")

        let facebook = try #require(rounds.last)
        #expect(facebook.results.map(\.verdict) == [.failing, .unknown, .ok])
        #expect(facebook.results[0].detail == "timed out after 6s")
        #expect(facebook.results[1].corroborating)
        let facebookAfter = arrivals[1] - started
        #expect(facebookAfter >= .seconds(6) && facebookAfter < .seconds(20), "the scheduler did not cut the stuck probe off")

        // Both loops now sleep a minute; cancelling must end the run at once.
        let cancelled = ContinuousClock.now
        running.cancel()
        await running.value
        #expect(ContinuousClock.now - cancelled < .seconds(1))
    }

    @Test func runOnceGivesOneRoundPerPlatformWithTheControls() async throws {
        let dir = try TempDir()
        let server = try HTTPStandIn(routes: ["/ok": ["status": 200, "body": "fine"], "/down": ["status": 503]], in: dir)
        let blackhole = try LocalServer(script: "tcp_blackhole.py", arguments: ["30"])
        var health = HealthSettings()
        health.timeout = .seconds(3)
        let platforms = [
            PlatformSpec(id: .facebook, displayName: "Facebook", probes: [
                ProbeSpec(.http(HTTPCheck(url: server.baseURL + "/ok"))), ProbeSpec(.dns(host: "localhost")),
            ], health: health, builtIn: true),
            PlatformSpec(id: .threads, displayName: "Threads", probes: [
                ProbeSpec(.http(HTTPCheck(url: server.baseURL + "/down"))),
            ], health: health, builtIn: true),
            PlatformSpec(id: .whatsapp, displayName: "WhatsApp", probes: [ProbeSpec(.dns(host: "localhost"))], health: health, builtIn: true),
        ]
        let controls = [ProbeSpec(.dns(host: "localhost")), ProbeSpec(.tcp(host: "127.0.0.1", port: blackhole.port))]
        let scheduler = ProbeScheduler(platforms: platforms, controls: controls, controlTimeout: .seconds(2),
                                       fetcher: SocketHTTPFetcher(), clock: ContinuousClock(), logger: logger)

        let rounds = await scheduler.runOnce(platforms: [.facebook, .threads])
        #expect(rounds.map(\.platform) == [.facebook, .threads])
        #expect(rounds[0].results.map(\.verdict) == [.ok, .ok])
        #expect(rounds[1].results.map(\.verdict) == [.failing])
        #expect(rounds[1].results.first?.detail == "HTTP 503")
        for round in rounds {
            #expect(round.controls.map(\.probe) == ["dns localhost", "tcp 127.0.0.1:\(blackhole.port)"])
            #expect(round.controls.map(\.verdict) == [.ok, .ok])
        }
        #expect(await scheduler.runOnce().count == 3)
    }

    @Test func eachPlatformKeepsItsOwnIntervalWithJitter() async throws {
        let clock = ManualClock()
        let dns = ScheduledProbe(spec: ProbeSpec(.dns(host: "localhost")), defaultTimeout: .seconds(3), fetcher: SocketHTTPFetcher())
        let scheduler = ProbeScheduler(
            platforms: [
                ScheduledPlatform(id: .facebook, interval: .seconds(10), jitter: 0.2, probes: [dns]),
                ScheduledPlatform(id: .whatsapp, interval: .seconds(30), jitter: 0, probes: [dns]),
            ],
            controls: [dns], clock: clock, random: { 0.5 }, logger: logger)
        let log = RoundLog()
        let running = Task { await scheduler.run { log.append($0) } }

        // whatsapp (no jitter) runs at once; facebook waits for its spread: half of 20% of 10s.
        #expect(await eventually { log.rounds.count == 1 && clock.waiting == 2 })
        #expect(log.rounds.map(\.platform) == [.whatsapp])
        #expect(log.rounds.first?.controls.map(\.verdict) == [.ok])
        #expect(Set(clock.sleepRequests) == [.zero, .seconds(1), .seconds(30)])

        clock.advance(to: .seconds(1))
        #expect(await eventually { log.rounds.count == 2 && clock.waiting == 2 })
        #expect(clock.sleepRequests.last == .seconds(11), "the next start is one interval after the last base, plus spread")

        clock.advance(to: .seconds(11))
        #expect(await eventually { log.rounds.count == 3 && clock.waiting == 2 })
        #expect(clock.sleepRequests.last == .seconds(21))
        #expect(log.rounds.map(\.platform) == [.whatsapp, .facebook, .facebook])

        // At 30s both are due: facebook (21s) and whatsapp (30s).
        clock.advance(to: .seconds(30))
        #expect(await eventually { log.rounds.count == 5 && clock.waiting == 2 })
        #expect(Set(log.rounds.suffix(2).map(\.platform)) == [.facebook, .whatsapp])
        #expect(Set(clock.sleepRequests.suffix(2)) == [.seconds(31), .seconds(60)])

        // Time jumps past facebook's next starts: the missed ones (41s, 51s) are skipped, not run late.
        clock.advance(to: .seconds(55))
        #expect(await eventually { log.rounds.count == 6 && clock.waiting == 2 })
        #expect(clock.sleepRequests.last == .seconds(61))
        try await Task.sleep(for: .milliseconds(50))
        #expect(log.rounds.count == 6)

        running.cancel()
        await running.value
    }
}

/// A probe that ignores its timeout and cancellation, like a wedged system call.
struct StuckProbe: Probe {
    func run() async -> ProbeResult {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread { Thread.sleep(forTimeInterval: 30); c.resume() }.start()
        }
        return ProbeResult(probe: "stuck", verdict: .ok, detail: "too late", observedAt: Date())
    }
}

/// Rounds as they arrive, with when they arrived.
final class RoundLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(ProbeRound, ContinuousClock.Instant)] = []
    func append(_ round: ProbeRound) { lock.withLock { stored.append((round, .now)) } }
    var rounds: [ProbeRound] { lock.withLock { stored.map(\.0) } }
    var arrivals: [ContinuousClock.Instant] { lock.withLock { stored.map(\.1) } }
}
