import DetourChannels
import DetourCore
import DetourStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Claims due deliveries under a lease, sends them through their channel and records the outcome.
///
/// Each channel has its own loop and its own concurrency, so a slow or failing channel never holds
/// up another. On graceful shutdown the workers stop claiming, give in-flight sends `drainDeadline`
/// to finish, and hand back the leases of whatever is left so the next start takes it over at once.
public struct DeliveryWorkers: Service {
    let desk: DeliveryDesk
    let store: any Store
    let settings: DeliverySettings
    let owner: String
    let wake: WakeSignal
    let metrics: DetourMetrics
    let logger: Logger
    let retry: RetryPolicy
    let drainDeadline: Duration
    let idlePoll: Duration
    let now: @Sendable () -> Date
    let heartbeats: Heartbeats?
    let stallLimit: Duration

    /// - Parameters:
    ///   - heartbeats: each channel's loop beats there as it turns (`delivery.email`, …), for the watchdog and `/healthz`.
    ///   - stallLimit: how long a loop may go without turning before it counts as stuck.
    public init(desk: DeliveryDesk, store: any Store, settings: DeliverySettings, owner: String, wake: WakeSignal,
                metrics: DetourMetrics, logger: Logger, drainDeadline: Duration = .seconds(20), idlePoll: Duration = .milliseconds(500),
                now: @escaping @Sendable () -> Date = { Date() }, heartbeats: Heartbeats? = nil, stallLimit: Duration = .seconds(20)) {
        self.desk = desk; self.store = store; self.settings = settings; self.owner = owner; self.wake = wake
        self.metrics = metrics; self.logger = logger; self.retry = RetryPolicy(settings: settings)
        self.drainDeadline = drainDeadline; self.idlePoll = idlePoll; self.now = now
        self.heartbeats = heartbeats; self.stallLimit = stallLimit
    }

    /// The name a channel's loop beats under in `Heartbeats`.
    static func loopName(_ kind: ChannelKind) -> String { "delivery.\(kind.rawValue)" }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for kind in ChannelKind.allCases {
                    group.addTask { await self.loop(kind) }
                }
            }
        } onGracefulShutdown: {
            wake.signal()
        }
        do {
            let released = try await store.releaseLeases(owners: [owner], now: now())
            if released > 0 { logger.notice("handed back unfinished deliveries", metadata: ["deliveries.released": "\(released)"]) }
        } catch {
            logger.error("cannot release delivery leases", metadata: ["error": "\(error)"])
        }
    }

    func concurrency(_ kind: ChannelKind) -> Int {
        switch kind {
        case .email: settings.emailConcurrency
        case .webhook: settings.webhookConcurrency
        case .banner: 1
        }
    }

    private func loop(_ kind: ChannelKind) async {
        let limit = concurrency(kind)
        let lease = settings.lease.duration
        let inFlight = InFlight()
        let finished = WakeSignal()
        let loopName = Self.loopName(kind)
        heartbeats?.register(loopName, limit: stallLimit)
        defer { heartbeats?.unregister(loopName) }
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                heartbeats?.beat(loopName)
                let generations = (wake.generation, finished.generation)
                let free = limit - inFlight.count
                var claimed: [DeliveryRecord] = []
                if free > 0 {
                    do {
                        claimed = try await store.claim(channel: kind, limit: free, owner: owner, lease: lease, now: now())
                    } catch {
                        logger.error("cannot claim deliveries", metadata: ["channel": "\(kind.rawValue)", "error": "\(error)"])
                    }
                }
                for d in claimed {
                    inFlight.add(1)
                    group.addTask {
                        await self.process(d)
                        inFlight.add(-1)
                        finished.signal()
                    }
                }
                // A full batch may mean more is due: claim again at once. Otherwise sleep until new work
                // is queued, a send finishes (when full), or the poll interval passes (retries coming due).
                if claimed.count == free && free > 0 { continue }
                let full = inFlight.count >= limit
                await WakeSignal.waitAny(full ? [(finished, generations.1)] : [(wake, generations.0), (finished, generations.1)],
                                         timeout: idlePoll)
            }
            // Draining: in-flight sends get until the deadline, then are cancelled (their leases are released after).
            heartbeats?.unregister(loopName)
            let until = ContinuousClock.now + drainDeadline
            while inFlight.count > 0 {
                if ContinuousClock.now >= until {
                    logger.warning("in-flight deliveries did not finish before the shutdown deadline", metadata: ["channel": "\(kind.rawValue)"])
                    group.cancelAll()
                    break
                }
                await WakeSignal.waitAny([(finished, finished.generation)], timeout: .milliseconds(50))
            }
        }
    }

    func process(_ d: DeliveryRecord) async {
        var log = logger
        log[metadataKey: "business"] = "\(d.business)"
        log[metadataKey: "incident.id"] = "\(d.incident)"
        log[metadataKey: "delivery.id"] = "\(d.id)"
        log[metadataKey: "channel"] = "\(d.channel.rawValue)"
        let started = ContinuousClock.now
        let outcome: DeliveryOutcome
        switch await desk.prepare(d) {
        case .superseded(let why):
            outcome = .sent(reply: "skipped: \(why)")
        case .fail(let error):
            outcome = await classify(error, d)
        case .send(let channel, let message):
            do {
                let receipt = try await channel.deliver(message)
                outcome = .sent(reply: receipt.reply)
            } catch {
                outcome = await classify(error, d)
            }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.deliveryFinished(channel: d.channel, outcome: DetourMetrics.Outcome(outcome), seconds: seconds)
        switch outcome {
        case .sent: log.debug("delivered", metadata: ["delivery.attempts": "\(d.attempts)"])
        case .retry(let error, let at): log.warning("delivery failed; will retry", metadata: ["error": "\(error)", "delivery.retry_at": "\(at)"])
        case .dead(let error): log.error("delivery gave up", metadata: ["error": "\(error)", "delivery.attempts": "\(d.attempts)"])
        }
        await record(outcome, of: d, log: log)
    }

    /// Records an outcome. When the store cannot take it (disk full, database locked for long), the
    /// outcome is kept in memory and the write retried with backoff, so a message that went out is
    /// not sent again when its lease expires. Gives up only when the task is cancelled (shutdown past
    /// its deadline); the lease then expires and the delivery is attempted again.
    func record(_ outcome: DeliveryOutcome, of d: DeliveryRecord, log: Logger) async {
        var wait = Duration.milliseconds(100)
        var failures = 0
        while true {
            do {
                if try await !store.complete(d.id, owner: owner, outcome: outcome, now: now()) {
                    log.warning("lease was lost before the outcome was recorded; another worker owns this delivery now")
                } else if failures > 0 {
                    log.notice("delivery outcome recorded after the store recovered", metadata: ["store.failures": "\(failures)"])
                }
                return
            } catch {
                failures += 1
                if failures == 1 {
                    log.error("cannot record a delivery outcome; keeping it in memory and retrying", metadata: ["error": "\(error)"])
                }
                do { try await Task.sleep(for: wait) } catch {
                    log.error("delivery outcome not recorded before shutdown; it is attempted again when its lease expires",
                              metadata: ["error": "\(error)"])
                    return
                }
                wait = min(wait * 2, .seconds(5))
            }
        }
    }

    private func classify(_ error: DeliveryError, _ d: DeliveryRecord) async -> DeliveryOutcome {
        if error.disablesEndpoint {
            await desk.disableWebhook(d.target, business: d.business, reason: error.message)
            return .dead(error: error.description)
        }
        guard error.retryable else { return .dead(error: error.description) }
        let at = now()
        if let next = retry.nextAttempt(attempts: d.attempts, createdAt: d.createdAt, now: at, retryAfter: error.retryAfter) {
            return .retry(error: error.description, retryAt: next)
        }
        return .dead(error: "gave up after \(d.attempts) attempt\(d.attempts == 1 ? "" : "s"): \(error.description)")
    }
}

/// How many sends one channel loop has in flight.
final class InFlight: Sendable {
    private let value = Mutex(0)
    func add(_ n: Int) { value.withLock { $0 += n } }
    var count: Int { value.withLock { $0 } }
}
