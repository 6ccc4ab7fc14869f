import DetourCore
import DetourStore
import Foundation
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics, served at `/metrics`: deliveries by channel and outcome,
/// platform states, queue depth, incidents, probe rounds and config reloads.
///
/// Owns its own `PrometheusCollectorRegistry` rather than the process-wide `MetricsSystem`, so
/// tests and several daemons in one process never share counters. Series that are known up front
/// (every channel, outcome and queue state) exist from the start with value 0, so dashboards and
/// `rate()` see them before the first delivery.
public final class DetourMetrics: Sendable {
    /// How a delivery attempt ended, as counted in `detour_deliveries_total{outcome}`.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case sent, retry, dead

        /// The metric outcome of an outcome the delivery worker recorded.
        public init(_ outcome: DeliveryOutcome) {
            switch outcome {
            case .sent: self = .sent
            case .retry: self = .retry
            case .dead: self = .dead
            }
        }
    }

    /// The registry the metrics live in; `render()` emits it.
    public let registry: PrometheusCollectorRegistry

    /// Upper bounds of the delivery-duration histogram, in seconds.
    static let deliveryBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    /// What `/metrics` adds about the process itself (memory, CPU, descriptors, start time).
    let process: ProcessMetrics

    /// - Parameters:
    ///   - platforms: every watched platform: each gets a `detour_platform_state` series (state
    ///     `unknown`) from the start, so "Detour cannot see anything" can be alerted on.
    ///   - version: the binary's version, for `detour_build_info`.
    ///   - startTime: when the process started (seconds since 1970).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), platforms: [PlatformID] = [],
                version: String = BuildInfo.version, startTime: Double = Date().timeIntervalSince1970) {
        self.registry = registry
        self.process = ProcessMetrics(startTime: startTime)
        // Made once here: the registry's lookup by name and labels is too slow for every delivery.
        var counters: [DeliverySeriesKey: Counter] = [:]
        var histograms: [ChannelKind: ValueHistogram] = [:]
        for channel in ChannelKind.allCases {
            for outcome in Outcome.allCases {
                counters[DeliverySeriesKey(channel: channel, outcome: outcome)] = registry.makeCounter(
                    descriptor: Self.deliveries, labels: [("channel", channel.rawValue), ("outcome", outcome.rawValue)])
            }
            histograms[channel] = registry.makeValueHistogram(
                descriptor: Self.deliverySeconds, labels: [("channel", channel.rawValue)], buckets: Self.deliveryBuckets)
        }
        deliveryCounters = counters
        deliveryHistograms = histograms
        registry.makeGauge(descriptor: Self.buildInfo, labels: [("version", version)]).set(to: 1)
        watch(platforms)
        leasesHeld().set(to: 0)
        oldestDueAge().set(to: 0)
        webhooksDisabled().set(to: 0)
        for state in DeliveryState.allCases { queueDepth(state).set(to: 0) }
        _ = incidentsOpened()
        incidentsOpen().set(to: 0)
        // The daemon only runs once its configuration has loaded.
        configReload().set(to: 1)
    }

    /// A delivery attempt finished on `channel` after `seconds`.
    public func deliveryFinished(channel: ChannelKind, outcome: Outcome, seconds: Double) {
        deliveries(channel, outcome).increment()
        deliverySeconds(channel).record(max(0, seconds))
    }

    /// The tracker decided `platform` is now `state`: that state's series becomes 1, the others 0.
    /// Probes of `platform` whose own access token is refused (0 when none): an operator's alert, not an outage.
    public func setCredentialProblems(_ platform: PlatformID, _ count: Int) {
        registry.makeGauge(descriptor: Self.credentialProblems, labels: [("platform", platform.rawValue)]).set(to: Double(count))
    }

    public func setPlatformState(_ platform: PlatformID, _ state: PlatformState) {
        known.withLock { _ = $0.insert(platform) }
        for candidate in PlatformState.allCases {
            registry.makeGauge(descriptor: Self.platformState, labels: [
                ("platform", platform.rawValue), ("state", candidate.rawValue),
            ]).set(to: candidate == state ? 1 : 0)
        }
    }

    /// Gives every platform in `platforms` that has no series yet one, in state `unknown`.
    public func watch(_ platforms: [PlatformID]) {
        for platform in platforms where known.withLock({ !$0.contains(platform) }) {
            setPlatformState(platform, .unknown)
        }
    }
    private let known = Mutex<Set<PlatformID>>([])

    /// The outbox as it is now: deliveries by state, leases held, and how long the oldest due delivery has waited.
    public func setOutbox(depth: [DeliveryState: Int], leasesHeld held: Int, oldestDueAge: Double) {
        setQueueDepth(depth)
        leasesHeld().set(to: Double(held))
        self.oldestDueAge().set(to: max(0, oldestDueAge))
    }

    /// How many webhooks are disabled (after an HTTP 410) until their policy changes.
    public func setDisabledWebhooks(_ count: Int) {
        webhooksDisabled().set(to: Double(count))
    }

    /// How many deliveries are in each state; states missing from `depth` are 0.
    public func setQueueDepth(_ depth: [DeliveryState: Int]) {
        for state in DeliveryState.allCases { queueDepth(state).set(to: Double(depth[state] ?? 0)) }
    }

    /// How many incidents are open now.
    public func setOpenIncidents(_ count: Int) {
        incidentsOpen().set(to: Double(count))
    }

    /// A configuration reload finished: 1 when the new configuration is in use, 0 when it was refused.
    public func reloadResult(success: Bool) {
        configReload().set(to: success ? 1 : 0)
    }

    /// An incident was opened (by probes or by hand).
    public func incidentOpened() {
        incidentsOpened().increment()
    }

    /// One round of probes of `platform` completed.
    public func probeRound(platform: PlatformID) {
        registry.makeCounter(descriptor: Self.probeRounds, labels: [("platform", platform.rawValue)]).increment()
    }

    /// The metrics in the Prometheus text exposition format.
    public func render() -> String {
        registry.emitToString() + process.render()
    }

    // MARK: - The metrics

    private struct DeliverySeriesKey: Hashable { var channel: ChannelKind; var outcome: Outcome }
    private let deliveryCounters: [DeliverySeriesKey: Counter]
    private let deliveryHistograms: [ChannelKind: ValueHistogram]

    private func deliveries(_ channel: ChannelKind, _ outcome: Outcome) -> Counter {
        deliveryCounters[DeliverySeriesKey(channel: channel, outcome: outcome)]!
    }

    private func deliverySeconds(_ channel: ChannelKind) -> ValueHistogram { deliveryHistograms[channel]! }

    private func queueDepth(_ state: DeliveryState) -> Gauge {
        registry.makeGauge(descriptor: Self.queueDepth, labels: [("state", state.rawValue)])
    }

    private func leasesHeld() -> Gauge { registry.makeGauge(descriptor: Self.leasesHeld) }
    private func oldestDueAge() -> Gauge { registry.makeGauge(descriptor: Self.oldestDueAge) }
    private func webhooksDisabled() -> Gauge { registry.makeGauge(descriptor: Self.webhooksDisabled) }
    private func incidentsOpened() -> Counter { registry.makeCounter(descriptor: Self.incidentsOpened) }
    private func incidentsOpen() -> Gauge { registry.makeGauge(descriptor: Self.incidentsOpen) }
    private func configReload() -> Gauge { registry.makeGauge(descriptor: Self.configReload) }

    private static func name(_ metric: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "detour", metricName: metric, unitName: unit, helpText: help)
    }

    private static var deliveries: MetricNameDescriptor {
        name("deliveries", unit: "total", help: "Delivery attempts by channel and outcome (sent, retry, dead).")
    }
    private static var deliverySeconds: MetricNameDescriptor {
        name("delivery", unit: "seconds", help: "How long a delivery attempt took, by channel.")
    }
    private static var incidentsOpened: MetricNameDescriptor {
        name("incidents_opened", unit: "total", help: "Incidents opened since the daemon started.")
    }
    private static var probeRounds: MetricNameDescriptor {
        name("probe_rounds", unit: "total", help: "Completed probe rounds by platform.")
    }
    private static var credentialProblems: MetricNameDescriptor {
        name("probe_credential_problems", help: "Probes of the platform whose own access token is refused (renew it; not an outage).")
    }
    private static var platformState: MetricNameDescriptor {
        name("platform_state", help: "1 for the platform's current state, 0 for the others.")
    }
    private static var queueDepth: MetricNameDescriptor {
        name("queue_depth", help: "Deliveries in the outbox by state.")
    }
    private static var buildInfo: MetricNameDescriptor {
        name("build_info", help: "Always 1; the version label says which Detour is running.")
    }
    private static var leasesHeld: MetricNameDescriptor {
        name("delivery_leases_held", help: "Deliveries claimed by a worker whose lease has not expired (in flight).")
    }
    private static var oldestDueAge: MetricNameDescriptor {
        name("oldest_due_delivery_age", unit: "seconds", help: "How long the oldest delivery that is due and not claimed has waited; 0 when none.")
    }
    private static var webhooksDisabled: MetricNameDescriptor {
        name("webhooks_disabled", help: "Webhooks disabled after an HTTP 410, until their policy changes.")
    }
    private static var incidentsOpen: MetricNameDescriptor {
        name("incidents_open", help: "Incidents open now.")
    }
    private static var configReload: MetricNameDescriptor {
        name("config_reload_success", help: "1 when the last configuration load or reload succeeded, 0 when it was refused.")
    }
}
