import DetourCore
import DetourProbes
import DetourTransport
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Runs the probe scheduler and feeds every round to the coordinator; restarts it when a reload
/// changes the platforms or the control probes.
struct ProbeService: Service {
    let coordinator: FailoverCoordinator
    let client: CurlHTTPClient
    let initial: DaemonConfig
    let logger: Logger

    func run() async throws {
        let (changes, continuation) = AsyncStream.makeStream(of: DaemonConfig.self, bufferingPolicy: .bufferingNewest(1))
        await coordinator.setPlatformsChangedHandler { continuation.yield($0) }
        var iterator = changes.makeAsyncIterator()
        var current = initial
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully {
                let config = current
                let next: DaemonConfig? = await withTaskGroup(of: DaemonConfig?.self) { group in
                    group.addTask {
                        let scheduler = ProbeScheduler<ContinuousClock>(
                            platforms: config.platforms.values.sorted { $0.id < $1.id }, controls: config.controls,
                            controlTimeout: config.health.timeout, fetcher: CurlProbeFetcher(client: client),
                            clock: ContinuousClock(), logger: logger)
                        await scheduler.run { round in await coordinator.observe(round) }
                        return nil
                    }
                    let change = await iterator.next()
                    group.cancelAll()
                    return change
                }
                guard let next else { break }
                logger.notice("probes restarted with the reloaded platforms", metadata: ["platforms.count": "\(next.platforms.count)"])
                current = next
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
    }
}

/// Evaluates every policy each `interval` on `clock`, and keeps systemd's STATUS= current.
/// Beats `decision` in `heartbeats` after every evaluation, so a stuck decision loop is seen.
struct EngineService: Service {
    static var loopName: String { "decision" }
    let coordinator: FailoverCoordinator
    let notifier: SystemdNotifier
    let interval: Duration
    let clock: any Clock<Duration>
    var heartbeats: Heartbeats? = nil
    var stallLimit: Duration = .seconds(20)

    func run() async throws {
        var sinceStatus = Duration.zero
        heartbeats?.register(Self.loopName, limit: stallLimit)
        defer { heartbeats?.unregister(Self.loopName) }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await coordinator.tick()
            heartbeats?.beat(Self.loopName)
            sinceStatus += interval
            if sinceStatus >= .seconds(5) {
                sinceStatus = .zero
                notifier.status(await coordinator.summaryLine())
            }
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { break }
        }
    }
}

/// SIGHUP: validate every file and swap the configuration, telling systemd RELOADING=1 … READY=1.
struct ReloadService: Service {
    let coordinator: FailoverCoordinator
    let notifier: SystemdNotifier
    let configPath: String
    let environment: [String: String]
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.notice("SIGHUP: reloading the configuration", metadata: ["config.file": "\(configPath)"])
            notifier.reloading()
            let report = await coordinator.reload(configPath: configPath, environment: environment, by: "SIGHUP")
            notifier.ready(status: report.ok ? "reloaded: \(report.message)" : "reload refused; running configuration kept")
        }
    }
}

/// Once the daemon is ready and its first probe round has had time to run, gives back the pages
/// start-up touched (`StartupPages`), so idle RSS is what idling uses.
struct StartupPagesService: Service {
    let ready: ReadyFlag
    let settle: Duration
    let logger: Logger

    func run() async throws {
        while !ready.isSet {
            try? await Task.sleep(for: .milliseconds(50))
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
        }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settle) }
        if Task.isCancelled || Task.isShuttingDownGracefully { return }
        StartupPages.release(logger: logger, reason: "start-up")
        // Nothing more to do; return only when the group stops, as services are expected to.
        try? await gracefulShutdown()
    }
}

/// Tells systemd STOPPING=1 as soon as a graceful shutdown begins (it is the first service asked to stop).
struct StoppingNotice: Service {
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.notice("shutting down: no new deliveries are claimed; in-flight ones get a deadline to finish")
        notifier.stopping()
    }
}
