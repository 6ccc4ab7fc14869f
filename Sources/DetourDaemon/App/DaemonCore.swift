import DetourChannels
import DetourConfig
import DetourCore
import DetourStore
import DetourTransport
import Foundation
import Logging
import ServiceLifecycle

/// The daemon's working parts, built from a loaded configuration and a store: the deciding side
/// (`FailoverCoordinator`, ticked by `EngineService`), the delivering side (`DeliveryDesk`,
/// `DeliveryWorkers`, banner renewal) and what they share. `DaemonApp` adds the HTTP listener, the
/// control socket, probes and systemd around it; tests assemble it alone, in process, with a clock
/// they drive, a real SQLite file and local SMTP and HTTP stand-ins.
public struct DaemonCore: Sendable {
    public let store: any Store
    public let metrics: DetourMetrics
    public let heartbeats: Heartbeats
    public let bannerState: BannerState
    public let links: UnsubscribeLinks
    public let desk: DeliveryDesk
    public let coordinator: FailoverCoordinator
    public let wake: WakeSignal
    /// On a cluster: whether the database answers (for `/readyz` and `detour status`).
    public let storeHealth: StoreHealth
    let pools: SMTPPools
    /// The services that decide and deliver: the engine tick, the delivery workers, banner renewal
    /// and the outbox gauges.
    public let services: [any Service]

    /// How the core runs.
    public struct Options: Sendable {
        /// Names this process's leases in the store.
        public var owner: String
        /// How often the engine evaluates every policy.
        public var tickInterval: Duration = .seconds(1)
        /// How long a loop may go without turning before it counts as stuck.
        public var stallLimit: Duration = .seconds(20)
        /// How often the outbox gauges of `/metrics` are read from the store.
        public var outboxGaugeInterval: Duration = .seconds(2)
        /// How often the banners of open incidents are renewed.
        public var bannerRenewal: Duration = .seconds(300)
        /// How long idle delivery workers wait before looking for due retries.
        public var idlePoll: Duration = .milliseconds(500)
        public var retry: RetryPolicy?
        /// This node's name on a cluster (PostgreSQL); the host name by default.
        public var node: String = ProcessInfo.processInfo.hostName
        /// How long the leader lease lasts on a cluster; it is renewed every third of it.
        public var leaderLease: Duration = .seconds(15)
        /// How many nodes must see a platform down (`cluster.quorum`); nil: a majority of those that can tell.
        public var quorum: Int?
        /// How often a cluster node exchanges views, incidents and requests with the others when no signal comes.
        public var clusterPoll: Duration = .seconds(1)
        public init(owner: String) { self.owner = owner }
    }

    /// Builds the parts and recovers what a previous run decided (open manual failovers, businesses
    /// removed meanwhile, the banners as published).
    /// - Parameters:
    ///   - clock: every loop's timers; `now` stamps what is stored. Tests pass a `ManualClock` and its date.
    public static func assemble(config: LoadedConfiguration, store: any Store, links: UnsubscribeLinks, http: CurlHTTPClient,
                                options: Options, clock: any Clock<Duration> = ContinuousClock(),
                                now: @escaping @Sendable () -> Date = { Date() }, notifier: SystemdNotifier = SystemdNotifier(environment: [:]),
                                startTime: Date = Date(), logger: Logger) async throws -> DaemonCore {
        let daemon = config.daemon
        let metrics = DetourMetrics(platforms: Array(daemon.platforms.keys), startTime: startTime.timeIntervalSince1970)
        let heartbeats = Heartbeats()
        let bannerState = BannerState()
        let pools = SMTPPools(logger: logger)
        let wake = WakeSignal()
        let desk = await DeliveryDesk(snapshot: PolicySnapshot(policies: config.policies, retired: [], daemon: daemon), store: store,
                                      pools: pools, http: http, bannerState: bannerState, links: links, metrics: metrics, logger: logger,
                                      now: now)
        let coordinator = try await FailoverCoordinator(config: config, store: store, metrics: metrics, desk: desk, logger: logger,
                                                        now: now, wakeWorkers: { wake.signal() })
        var clusterServices: [any Service] = []
        let storeHealth = StoreHealth()
        if let postgres = store as? PostgresStore {
            // A cluster node decides nothing until it holds the leader lease; until then its incident
            // writes are refused (term 0 never leads).
            postgres.fence(with: LeaderLease(node: options.node, term: 0, expiresAt: .distantPast))
            await coordinator.startFollowing(as: options.node, quorum: options.quorum, lease: options.leaderLease)
            await coordinator.setStoreHealth(storeHealth)
            clusterServices.append(LeadershipService(store: postgres, coordinator: coordinator, node: options.node,
                                                     lease: options.leaderLease, clock: clock, now: now, health: storeHealth, logger: logger))
            clusterServices.append(ClusterService(store: postgres, coordinator: coordinator, desk: desk, wake: wake, health: storeHealth,
                                                  node: options.node, interval: options.clusterPoll, clock: clock, now: now, logger: logger))
        } else {
            try await coordinator.recover()
        }
        // Banners: the HTTP endpoints and the files show what the store says.
        await desk.prepareBanners()
        let services: [any Service] = clusterServices + [
            EngineService(coordinator: coordinator, notifier: notifier, interval: options.tickInterval, clock: clock,
                          heartbeats: heartbeats, stallLimit: options.stallLimit),
            DeliveryWorkers(desk: desk, store: store, settings: daemon.delivery, owner: options.owner, wake: wake,
                            metrics: metrics, logger: logger, idlePoll: options.idlePoll, now: now, clock: clock,
                            heartbeats: heartbeats, stallLimit: options.stallLimit, retry: options.retry),
            BannerRenewalService(desk: desk, interval: options.bannerRenewal, clock: clock),
            OutboxGauges(store: store, metrics: metrics, interval: options.outboxGaugeInterval, clock: clock, now: now, logger: logger),
        ]
        return DaemonCore(store: store, metrics: metrics, heartbeats: heartbeats, bannerState: bannerState, links: links, desk: desk,
                          coordinator: coordinator, wake: wake, storeHealth: storeHealth, pools: pools, services: services)
    }

    /// The loops that are stuck now, for `/healthz` and the watchdog. On a cluster node whose
    /// database does not answer, loops waiting on it are not stuck in a way a restart would mend:
    /// the node keeps serving what it knows, and `/readyz` (not `/healthz`) reports the database.
    public func stalls() -> [Heartbeats.Stall] {
        storeHealth.trouble == nil ? heartbeats.stalls() : []
    }

    /// Closes the SMTP connections once the services have stopped.
    public func close() async { await pools.closeAll() }
}
