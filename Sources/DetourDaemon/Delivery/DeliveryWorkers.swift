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
/// up another. While a send runs (and until its outcome is in the store) its lease is renewed every
/// third of its length, so a slow server or a rate limit never lets another worker take it and send
/// it twice. Outcomes are written in batches (`OutcomeRecorder`). On graceful shutdown the workers
/// stop claiming, give in-flight sends `drainDeadline` to finish, write their outcomes, and hand back
/// the leases of whatever is left so the next start takes it over at once.
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
    let clock: any Clock<Duration>
    let heartbeats: Heartbeats?
    let stallLimit: Duration

    /// - Parameters:
    ///   - heartbeats: each channel's loop beats there as it turns (`delivery.email`, …), for the watchdog and `/healthz`.
    ///   - stallLimit: how long a loop may go without turning before it counts as stuck.
    ///   - clock: what polls, lease renewals and retries of the store wait on; tests pass one they drive.
    ///   - retry: when failed deliveries are tried again (its random source is injectable).
    public init(desk: DeliveryDesk, store: any Store, settings: DeliverySettings, owner: String, wake: WakeSignal,
                metrics: DetourMetrics, logger: Logger, drainDeadline: Duration = .seconds(20), idlePoll: Duration = .milliseconds(500),
                now: @escaping @Sendable () -> Date = { Date() }, clock: any Clock<Duration> = ContinuousClock(),
                heartbeats: Heartbeats? = nil, stallLimit: Duration = .seconds(20), retry: RetryPolicy? = nil) {
        self.desk = desk; self.store = store; self.settings = settings; self.owner = owner; self.wake = wake
        self.metrics = metrics; self.logger = logger; self.retry = retry ?? RetryPolicy(settings: settings)
        self.drainDeadline = drainDeadline; self.idlePoll = idlePoll; self.now = now; self.clock = clock
        self.heartbeats = heartbeats; self.stallLimit = stallLimit
    }

    /// The name a channel's loop beats under in `Heartbeats`.
    static func loopName(_ kind: ChannelKind) -> String { "delivery.\(kind.rawValue)" }

    public func run() async throws {
        // Unrecorded outcomes are what a SIGKILL could send twice: at most four times the senders'
        // number (at least 64, so a batch can gather while the last one is written). The social
        // channels' senders post once per event each and are left out.
        let senders = ChannelKind.allCases.filter { !$0.isSocial }.map(concurrency).reduce(0, +)
        let recorder = OutcomeRecorder(store: store, owner: owner, now: now, clock: clock, logger: logger,
                                       maxPending: Swift.max(64, 4 * senders))
        let inFlight = InFlight()
        await withTaskGroup(of: Void.self) { background in
            background.addTask { await recorder.run() }
            background.addTask { await self.renewLeases(of: inFlight, recorder: recorder) }
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    for kind in ChannelKind.allCases {
                        group.addTask { await self.loop(kind, inFlight: inFlight, recorder: recorder) }
                    }
                }
            } onGracefulShutdown: {
                wake.signal()
            }
            if await !recorder.drain(until: ContinuousClock.now + .seconds(5)) {
                logger.error("some delivery outcomes were not recorded before shutdown; they are attempted again after a restart")
            }
            background.cancelAll()
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
        case .sms: settings.smsConcurrency
        case .telegram, .mastodon, .bluesky, .googleBusiness: 2
        case .banner: 1
        }
    }

    /// Every third of the lease, pushes the leases of everything in flight or waiting to be recorded
    /// to a full lease from now.
    private func renewLeases(of inFlight: InFlight, recorder: OutcomeRecorder) async {
        let lease = settings.lease.duration
        let every = lease / 3
        while !Task.isCancelled {
            do { try await clock.sleep(for: every) } catch { return }
            let ids = inFlight.ids + recorder.pendingIDs
            guard !ids.isEmpty else { continue }
            do {
                try await store.renewLeases(ids, owner: owner, until: now().addingTimeInterval(lease.seconds))
            } catch {
                logger.error("cannot renew delivery leases; sends that outlast their lease may be attempted twice",
                             metadata: ["deliveries.count": "\(ids.count)", "error": "\(error)"])
            }
        }
    }

    private func loop(_ kind: ChannelKind, inFlight: InFlight, recorder: OutcomeRecorder) async {
        let limit = concurrency(kind)
        // `limit` senders take claimed deliveries from a queue that the claims keep ahead (leased,
        // renewed, not yet sent): a sender goes on to the next delivery the moment one finishes, and
        // the store is asked for half the queue's room at a time, so a fan-out costs few claims.
        let claimedQueue = ClaimedQueue()
        let capacity = limit * 8
        let batch = limit * 4
        let lease = settings.lease.duration
        let finished = WakeSignal()
        let loopName = Self.loopName(kind)
        heartbeats?.register(loopName, limit: stallLimit)
        await withDiscardingTaskGroup { group in
            for _ in 0..<limit {
                group.addTask {
                    while true {
                        let seen = claimedQueue.available.generation
                        switch claimedQueue.take() {
                        case .delivery(let d):
                            let outcome = await self.process(d)
                            await recorder.submit(CompletedDelivery(id: d.id, outcome: outcome))
                            // Wake the claims only when a batch's worth of places is free, or all are.
                            let left = inFlight.remove(d.id, kind)
                            if capacity - left == batch || left == 0 { finished.signal() }
                        case .empty:
                            await claimedQueue.available.wait(since: seen, timeout: .seconds(60), clock: clock)
                        case .closed:
                            return
                        }
                    }
                }
            }
            var idleRounds = 0
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                heartbeats?.beat(loopName)
                let generations = (wake.generation, finished.generation)
                let busy = inFlight.count(kind)
                let free = capacity - busy
                var claimed: [DeliveryRecord] = []
                // A kind no policy uses has only what a reload left behind (it fails as unconfigured):
                // it asks the store every tenth round, so eight channel loops do not each write a claim
                // twice a second.
                idleRounds += 1
                let unused = busy == 0 && !desk.uses(kind)
                if (free >= batch || (free > 0 && busy == 0)) && (!unused || idleRounds % 10 == 1) {
                    do {
                        claimed = try await store.claim(channel: kind, limit: free, owner: owner, lease: lease, now: now())
                    } catch {
                        logger.error("cannot claim deliveries", metadata: ["channel": "\(kind.rawValue)", "error": "\(error)"])
                    }
                }
                if !claimed.isEmpty { idleRounds = 0 }
                for d in claimed { inFlight.add(d.id, kind) }
                claimedQueue.push(claimed)
                // A full batch may mean more is due: claim again as soon as enough places are free.
                // Otherwise sleep until new work is queued, sends finish, or the poll interval passes.
                let full = claimed.count == free && free > 0
                if full, capacity - inFlight.count(kind) >= batch { continue }
                let waitForSends = full || capacity - inFlight.count(kind) < batch
                await WakeSignal.waitAny(waitForSends ? [(finished, generations.1)] : [(wake, generations.0), (finished, generations.1)],
                                         timeout: idlePoll, clock: clock)
            }
            // Draining: what was claimed and not started is handed back (its lease is released after);
            // sends in flight get until the deadline, then are cancelled.
            heartbeats?.unregister(loopName)
            for id in claimedQueue.close() { inFlight.remove(id, kind) }
            let until = ContinuousClock.now + drainDeadline
            while inFlight.count(kind) > 0 {
                if ContinuousClock.now >= until {
                    logger.warning("in-flight deliveries did not finish before the shutdown deadline", metadata: ["channel": "\(kind.rawValue)"])
                    group.cancelAll()
                    break
                }
                await WakeSignal.waitAny([(finished, finished.generation)], timeout: .milliseconds(50), clock: clock)
            }
        }
    }

    /// Attempts one delivery and returns its outcome.
    func process(_ d: DeliveryRecord) async -> DeliveryOutcome {
        let started = ContinuousClock.now
        let outcome: DeliveryOutcome
        switch await desk.prepare(d) {
        case .superseded(let why):
            outcome = .sent(reply: "skipped: \(why)")
        case .later(let why, let at):
            // Not a failure: logged as waiting, recorded as a retry at that time.
            logger.info("delivery waits", metadata: Self.metadata(d, ["reason": "\(why)", "delivery.retry_at": "\(at)"]))
            return .retry(error: why, retryAt: at)
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
        metrics.deliveryFinished(channel: d.channel, outcome: DetourMetrics.Outcome(outcome), seconds: elapsed.seconds)
        // The metadata is built only when the line is logged: setting it on a logger for every
        // delivery costs more than a sent message's bookkeeping.
        switch outcome {
        case .sent: logger.debug("delivered", metadata: Self.metadata(d, ["delivery.attempts": "\(d.attempts)"]))
        case .retry(let error, let at):
            logger.warning("delivery failed; will retry", metadata: Self.metadata(d, ["error": "\(error)", "delivery.retry_at": "\(at)"]))
        case .dead(let error):
            logger.error("delivery gave up", metadata: Self.metadata(d, ["error": "\(error)", "delivery.attempts": "\(d.attempts)"]))
        }
        return outcome
    }

    private static func metadata(_ d: DeliveryRecord, _ extra: Logger.Metadata) -> Logger.Metadata {
        extra.merging([
            "business": "\(d.business)", "incident.id": "\(d.incident)",
            "delivery.id": "\(d.id)", "channel": "\(d.channel.rawValue)",
        ]) { mine, _ in mine }
    }

    private func classify(_ error: DeliveryError, _ d: DeliveryRecord) async -> DeliveryOutcome {
        if error.disablesEndpoint {
            await desk.disableWebhook(d.target, business: d.business, reason: error.message)
            return .dead(error: error.description)
        }
        switch retry.verdict(retryable: error.retryable, attempts: d.attempts, createdAt: d.createdAt, now: now(), retryAfter: error.retryAfter) {
        case .retry(let at): return .retry(error: error.description, retryAt: at)
        case .giveUp(let reason): return .dead(error: reason.map { "\($0): \(error.description)" } ?? error.description)
        }
    }
}

/// Claimed deliveries waiting for a sender, oldest first.
final class ClaimedQueue: Sendable {
    enum Next { case delivery(DeliveryRecord), empty, closed }
    private struct State {
        var items: [DeliveryRecord] = []
        var head = 0
        var closed = false
    }
    private let state = Mutex(State())
    /// Signalled when deliveries are added or the queue closes.
    let available = WakeSignal()

    func push(_ deliveries: [DeliveryRecord]) {
        guard !deliveries.isEmpty else { return }
        state.withLock { s in
            if s.head > 0, s.head == s.items.count { s.items.removeAll(keepingCapacity: true); s.head = 0 }
            s.items += deliveries
        }
        available.signal()
    }

    func take() -> Next {
        state.withLock { s in
            if s.closed { return .closed }
            guard s.head < s.items.count else { return .empty }
            s.head += 1
            return .delivery(s.items[s.head - 1])
        }
    }

    /// No more deliveries are taken; returns the ids of those never started.
    func close() -> [Int64] {
        let left = state.withLock { s -> [Int64] in
            s.closed = true
            let ids = s.items[s.head...].map(\.id)
            s.items = []; s.head = 0
            return ids
        }
        available.signal()
        return left
    }
}

/// The deliveries the loops have in flight, by id and channel.
final class InFlight: Sendable {
    private let value = Mutex<[Int64: ChannelKind]>([:])
    func add(_ id: Int64, _ kind: ChannelKind) { value.withLock { $0[id] = kind } }
    /// Removes one delivery and returns how many of `kind` are left.
    @discardableResult
    func remove(_ id: Int64, _ kind: ChannelKind) -> Int {
        value.withLock { v in
            v.removeValue(forKey: id)
            return v.values.reduce(0) { $1 == kind ? $0 + 1 : $0 }
        }
    }
    func count(_ kind: ChannelKind) -> Int { value.withLock { $0.values.reduce(0) { $1 == kind ? $0 + 1 : $0 } } }
    var ids: [Int64] { value.withLock { Array($0.keys) } }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
