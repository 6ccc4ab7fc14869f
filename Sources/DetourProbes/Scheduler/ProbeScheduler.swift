import DetourCore
import Foundation
import Logging

/// Runs every platform's probes on the platform's own cadence and hands each round to a consumer.
///
/// Each platform has its own loop: rounds start every `interval` plus a random spread (`jitter`),
/// all of a round's probes and the control probes run concurrently, and each is cut off at its own
/// timeout, so a hanging probe delays neither another probe's result nor another platform.
/// `clock` paces the rounds (tests drive it); probe timeouts are real time, because they bound real I/O.
public struct ProbeScheduler<C: Clock<Duration>>: Sendable {
    public let platforms: [ScheduledPlatform]
    public let controls: [ScheduledProbe]
    private let clock: C
    private let random: @Sendable () -> Double
    private let timeoutGrace: Duration
    private let logger: Logger

    /// - Parameters:
    ///   - random: a number in `0..<1` for each round's spread.
    ///   - timeoutGrace: how long past a probe's own timeout the scheduler waits before reporting it
    ///     `timed out` itself (the probe's own timeout result, with its timings, normally wins).
    public init(platforms: [ScheduledPlatform], controls: [ScheduledProbe], clock: C,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                timeoutGrace: Duration = .milliseconds(100), logger: Logger) {
        self.platforms = platforms; self.controls = controls; self.clock = clock
        self.random = random; self.timeoutGrace = timeoutGrace; self.logger = logger
    }

    /// A scheduler for configured platforms and control probes (controls time out after `controlTimeout`
    /// unless their spec says otherwise).
    public init(platforms: [PlatformSpec], controls: [ProbeSpec], controlTimeout: TimeSpan, fetcher: any ProbeHTTPFetcher,
                clock: C, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger) {
        self.init(platforms: platforms.map { ScheduledPlatform(spec: $0, fetcher: fetcher) },
                  controls: controls.map { ScheduledProbe(spec: $0, defaultTimeout: controlTimeout, fetcher: fetcher) },
                  clock: clock, random: random, logger: logger)
    }

    /// Probes every platform until the calling task is cancelled, passing each finished round to `onRound`.
    ///
    /// A platform's next round waits for `onRound` to return, so a slow consumer slows only that platform.
    public func run(onRound: @escaping @Sendable (ProbeRound) async -> Void) async {
        await withDiscardingTaskGroup { group in
            for platform in platforms {
                group.addTask { await loop(platform, onRound: onRound) }
            }
        }
    }

    /// One round of each platform (all of them, or those in `platforms`), run at once, with one shared
    /// run of the control probes; for `detour probe`. Rounds come back in configured order.
    public func runOnce(platforms only: Set<PlatformID>? = nil) async -> [ProbeRound] {
        let chosen = platforms.filter { only?.contains($0.id) ?? true }
        let at = Date()
        async let controlResults = runAll(controls, platform: nil)
        let perPlatform = await withTaskGroup(of: (Int, [ProbeResult]).self) { group in
            for (index, platform) in chosen.enumerated() {
                group.addTask { (index, await runAll(platform.probes, platform: platform.id)) }
            }
            var out = [[ProbeResult]](repeating: [], count: chosen.count)
            for await (index, results) in group { out[index] = results }
            return out
        }
        let shared = await controlResults
        return zip(chosen, perPlatform).map { ProbeRound(platform: $0.id, results: $1, controls: shared, at: at) }
    }

    // MARK: - Loop

    private func loop(_ platform: ScheduledPlatform, onRound: @Sendable (ProbeRound) async -> Void) async {
        let interval = platform.interval.milliseconds > 0 ? platform.interval.duration : .seconds(1)
        let jitter = min(max(platform.jitter, 0), 0.5)
        var base = clock.now
        var start = base.advanced(by: spread(interval, jitter))
        while !Task.isCancelled {
            do { try await clock.sleep(until: start, tolerance: nil) } catch { return }
            let round = await runRound(platform)
            guard !Task.isCancelled else { return }
            await onRound(round)
            // The next start is one interval on, plus a fresh spread. Starts already in the past
            // (a round or a consumer that overran) are skipped rather than run late in a bunch.
            base = base.advanced(by: interval)
            let offset = spread(interval, jitter)
            let now = clock.now
            while base.advanced(by: offset) < now { base = base.advanced(by: interval) }
            start = base.advanced(by: offset)
        }
    }

    private func spread(_ interval: Duration, _ jitter: Double) -> Duration {
        interval * (min(max(random(), 0), 1) * jitter)
    }

    private func runRound(_ platform: ScheduledPlatform) async -> ProbeRound {
        let at = Date()
        async let controlResults = runAll(controls, platform: platform.id)
        let results = await runAll(platform.probes, platform: platform.id)
        return ProbeRound(platform: platform.id, results: results, controls: await controlResults, at: at)
    }

    /// Runs probes concurrently, each bounded by its timeout; results in the probes' order.
    private func runAll(_ probes: [ScheduledProbe], platform: PlatformID?) async -> [ProbeResult] {
        guard !probes.isEmpty else { return [] }
        return await withTaskGroup(of: (Int, ProbeResult).self) { group in
            for (index, probe) in probes.enumerated() {
                group.addTask { (index, await runBounded(probe, platform: platform)) }
            }
            var out = [ProbeResult?](repeating: nil, count: probes.count)
            for await (index, result) in group { out[index] = result }
            return out.compactMap { $0 }
        }
    }

    private func runBounded(_ scheduled: ScheduledProbe, platform: PlatformID?) async -> ProbeResult {
        let probe = scheduled.probe
        if let result = await Deadline.run(within: scheduled.timeout.duration + timeoutGrace, { await probe.run() }) {
            return result
        }
        if !Task.isCancelled {
            var meta: Logger.Metadata = ["probe.label": "\(scheduled.label)", "probe.timeout": "\(scheduled.timeout)"]
            if let platform { meta["platform.id"] = "\(platform)" }
            logger.warning("probe overran its timeout", metadata: meta)
        }
        return ProbeResult(probe: scheduled.label, verdict: scheduled.corroborating ? .unknown : .failing,
                           detail: scheduled.timeout.timedOutText, corroborating: scheduled.corroborating, observedAt: Date())
    }
}
