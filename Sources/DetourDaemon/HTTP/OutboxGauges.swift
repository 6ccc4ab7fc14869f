import DetourStore
import Foundation
import Logging
import ServiceLifecycle

/// Keeps the outbox gauges of `/metrics` current on their own: deliveries by state, leases held and
/// the age of the oldest due delivery, read from the store every `interval` — so alerts on a backlog
/// or on dead letters can fire without anyone running `detour status`.
struct OutboxGauges: Service {
    let store: any Store
    let metrics: DetourMetrics
    let interval: Duration
    let clock: any Clock<Duration>
    var now: @Sendable () -> Date = { Date() }
    let logger: Logger

    func run() async throws {
        await refresh()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { return }
            await refresh()
        }
    }

    func refresh() async {
        do {
            let stats = try await store.outboxStats(now: now())
            metrics.setOutbox(depth: stats.depth, leasesHeld: stats.leasesHeld, oldestDueAge: stats.oldestDueAge)
        } catch {
            logger.warning("cannot read the outbox for /metrics", metadata: ["error": "\(error)"])
        }
    }
}
