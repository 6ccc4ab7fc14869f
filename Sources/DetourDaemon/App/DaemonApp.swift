import DetourChannels
import DetourConfig
import DetourCore
import DetourStore
import DetourTransport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// `detour run`: every part of the daemon in one ServiceGroup.
///
/// Start-up order: open the store, take back the work of a predecessor that died on this host,
/// rebuild the engine from the store, then start the services. READY=1 goes to systemd once the
/// HTTP listener is serving and the control socket exists.
public struct DaemonApp: Sendable {
    public var config: LoadedConfiguration
    public var configPath: String
    public var environment: [String: String]
    public var logger: Logger
    /// How often the engine evaluates every policy.
    public var tickInterval: Duration = .seconds(1)
    /// How long the decision loop or a delivery loop may go without turning before the daemon counts
    /// as stuck: `/healthz` answers 503 and systemd's watchdog keep-alives stop.
    public var stallLimit: Duration = .seconds(20)
    /// How often the outbox gauges of `/metrics` are read from the store.
    public var outboxGaugeInterval: Duration = .seconds(2)

    public init(config: LoadedConfiguration, configPath: String, environment: [String: String], logger: Logger) {
        self.config = config; self.configPath = configPath; self.environment = environment; self.logger = logger
    }

    public func run() async throws {
        let daemon = config.daemon
        let startedAt = Date()
        let store: any Store
        let key: [UInt8]
        if PostgresLocation.isURL(daemon.statePath) {
            // PostgreSQL: the unsubscribe key is shared through the database, so every node signs alike.
            do {
                let location = try PostgresLocation(url: daemon.statePath, password: daemon.statePassword?.reveal())
                let postgres = try await PostgresStore.open(location, logger: logger)
                key = try await postgres.sharedKey("unsubscribe", length: UnsubscribeLinks.keyLength)
                store = postgres
            } catch {
                throw DaemonStartError(message: "\(error)", hint: "`state:` is set in \(configPath); check the server, the URL's user, database and sslmode, and the password")
            }
        } else {
            do { store = try SQLiteStore(path: daemon.statePath) } catch {
                // The store's error names the file, what is wrong and what to do; only where `state:` is set is added.
                throw DaemonStartError(message: "\(error)", hint: "`state:` is set in \(configPath); under systemd, StateDirectory=detour gives the daemon a directory of its own")
            }
            let keyPath = ((daemon.statePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("unsubscribe.key")
            do { key = try UnsubscribeLinks.loadOrCreateKey(at: keyPath) } catch {
                throw DaemonStartError(message: "\(error)", hint: "the directory of `state:` must be writable by the daemon")
            }
        }
        let host = ProcessInfo.processInfo.hostName
        let pid = getpid()
        let owner = "\(host)/\(pid)/\(Int(startedAt.timeIntervalSince1970))"
        try await takeOverDeadPredecessors(store: store, host: host)

        let links = UnsubscribeLinks(publicURL: daemon.http.publicURL, key: key)
        let http = CurlHTTPClient(logger: logger)
        defer { http.shutdown() }
        let notifier = SystemdNotifier(environment: environment)
        var options = DaemonCore.Options(owner: owner)
        options.tickInterval = tickInterval
        options.stallLimit = stallLimit
        options.outboxGaugeInterval = outboxGaugeInterval
        options.node = daemon.node.name ?? host
        options.leaderLease = daemon.node.leaderLease.duration
        options.quorum = daemon.node.quorum
        let core = try await DaemonCore.assemble(config: config, store: store, links: links, http: http, options: options,
                                                 notifier: notifier, startTime: startedAt, logger: logger)
        let (coordinator, metrics) = (core.coordinator, core.metrics)

        let ready = ReadyFlag()
        let controlPath = daemon.control.path
        // READY once both the HTTP listener serves and the control socket listens.
        let pending = Countdown(2) {
            ready.set()
            notifier.ready(status: await coordinator.summaryLine())
            logger.notice("detour is ready", metadata: [
                "http.listen": "\(daemon.http.host):\(daemon.http.port)", "control.socket": "\(controlPath)", "config.file": "\(configPath)",
                "policies.count": "\(config.policies.count)", "startup.ms": "\(Int(Date().timeIntervalSince(startedAt) * 1000))",
            ])
        }
        let httpService = HTTPListenerService(
            host: daemon.http.host, port: daemon.http.port, banners: core.bannerState, metrics: metrics,
            readiness: { ready.isSet }, stalls: { core.stalls() }, trouble: { [storeHealth = core.storeHealth] in storeHealth.summary },
            unsubscribe: links,
            onUnsubscribe: { business, email in
                try await store.unsubscribe(business: business, email: email, at: Date())
                logger.notice("unsubscribed", metadata: ["business": "\(business)"])
            },
            logger: logger,
            onServerRunning: { _ in await pending.done() })
        let commands = ControlCommands(
            coordinator: coordinator, store: store,
            daemon: StatusReport.Daemon(version: BuildInfo.version, pid: pid, startedAt: startedAt, config: configPath,
                                        state: daemon.statePath, http: daemon.http.publicURL, owner: owner),
            configPath: configPath, environment: environment, logger: logger, notifier: notifier)
        let control = ControlServer(path: controlPath, group: daemon.control.group, logger: logger,
                                    onListening: { await pending.done() },
                                    handler: { request, caller in await commands.handle(request, caller: caller) })

        var services: [any Service] = [httpService, ProbeService(coordinator: coordinator, client: http, initial: daemon, logger: logger)]
        services += core.services
        services += [
            control,
            ReloadService(coordinator: coordinator, notifier: notifier, configPath: configPath, environment: environment, logger: logger),
            StartupPagesService(ready: ready, settle: .seconds(3), logger: logger),
        ]
        if let interval = notifier.watchdogInterval {
            services.append(WatchdogService(notifier: notifier, interval: interval, clock: ContinuousClock(),
                                            stalls: { core.stalls() }, logger: logger))
        }
        services.append(StoppingNotice(notifier: notifier, logger: logger))

        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        await core.close()
        logger.notice("detour stopped")
    }

    /// Hands back, at once, the leases held by earlier processes on this host that are no longer alive,
    /// instead of waiting for the leases to expire.
    func takeOverDeadPredecessors(store: any Store, host: String) async throws {
        let dead = try await store.leaseOwners().filter { owner in
            let parts = owner.split(separator: "/")
            guard parts.count == 3, parts[0] == host, let pid = Int32(parts[1]) else { return false }
            return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
        }
        guard !dead.isEmpty else { return }
        let n = try await store.releaseLeases(owners: dead, now: Date())
        logger.notice("took back deliveries from a daemon that stopped without finishing", metadata: [
            "deliveries.released": "\(n)", "lease.owners": "\(dead.joined(separator: ","))",
        ])
    }
}

/// Why the daemon could not start, and what to do about it.
public struct DaemonStartError: Error, CustomStringConvertible {
    public var message: String
    public var hint: String
    public var description: String { "\(message)\n  hint: \(hint)" }
}

/// Set once the daemon serves; read by /readyz.
final class ReadyFlag: Sendable {
    private let flag = Synchronization.Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}

/// Runs `action` once `done()` has been called `count` times.
actor Countdown {
    private var remaining: Int
    private let action: @Sendable () async -> Void
    init(_ count: Int, action: @escaping @Sendable () async -> Void) { remaining = count; self.action = action }
    func done() async {
        remaining -= 1
        if remaining == 0 { await action() }
    }
}
