import DetourStore
import Foundation
import Logging
import Synchronization

/// Records delivery outcomes in batches: every outcome handed over while one write is running goes
/// into the next write, so a fan-out costs a few store transactions, not one per message.
///
/// An outcome is kept in memory until the store has taken it. When the store cannot (disk full, a
/// lock held for long), the write is retried with backoff, and the deliveries stay leased to this
/// worker (`pendingIDs` are renewed with the in-flight ones), so a message that went out is not sent
/// again. Only a process that dies with outcomes still here lets them be attempted again, with the
/// same Message-ID or webhook-id. So that these stay few, at most `maxPending` outcomes wait here:
/// a sender that hands one over beyond that waits for a write before it takes its next delivery.
final class OutcomeRecorder: Sendable {
    private struct State {
        var queue: [CompletedDelivery] = []
        /// Being written now.
        var writing: [Int64] = []
    }
    private let state = Mutex(State())
    private let arrived = WakeSignal()
    private let written = WakeSignal()
    private let store: any Store
    private let owner: String
    private let now: @Sendable () -> Date
    private let clock: any Clock<Duration>
    private let logger: Logger
    /// The most outcomes written in one transaction.
    let maxBatch: Int
    /// How long outcomes are gathered before a write.
    let gather: Duration
    /// The most outcomes kept here, written or not yet: beyond it `submit` waits.
    let maxPending: Int

    init(store: any Store, owner: String, now: @escaping @Sendable () -> Date, clock: any Clock<Duration>, logger: Logger,
         maxBatch: Int = 512, gather: Duration = .milliseconds(4), maxPending: Int = 512) {
        self.store = store; self.owner = owner; self.now = now; self.clock = clock; self.logger = logger
        self.maxBatch = maxBatch; self.gather = gather; self.maxPending = max(1, maxPending)
    }

    /// Hands over an outcome; it is written soon, with whatever else arrives meanwhile. Returns once
    /// at most `maxPending` outcomes wait here, so a store that falls behind holds the senders back
    /// instead of letting unrecorded sends pile up.
    func submit(_ completed: CompletedDelivery) async {
        state.withLock { $0.queue.append(completed) }
        arrived.signal()
        while true {
            let seen = written.generation
            guard state.withLock({ $0.queue.count + $0.writing.count }) > maxPending else { return }
            await written.wait(since: seen, timeout: .milliseconds(100), clock: clock)
        }
    }

    /// Deliveries whose outcome is known here and not yet in the store: their leases must be kept.
    var pendingIDs: [Int64] { state.withLock { $0.queue.map(\.id) + $0.writing } }

    var isEmpty: Bool { state.withLock { $0.queue.isEmpty && $0.writing.isEmpty } }

    /// Writes until cancelled. Cancel it only after the last `submit` and a `drain`.
    ///
    /// After the first outcome of a quiet spell arrives, it waits `gather` (real time: this only
    /// shapes batches, it means nothing to the rules) so that a fan-out's outcomes go in tens per
    /// transaction instead of one or two.
    func run() async {
        while !Task.isCancelled {
            let seen = arrived.generation
            if state.withLock({ $0.queue.count }) < maxBatch / 4 {
                try? await Task.sleep(for: gather)
            }
            if await writeOnce() { continue }
            await WakeSignal.waitAny([(arrived, seen)], timeout: .seconds(1), clock: clock)
        }
    }

    /// Waits until everything handed over is written, or `deadline` passes; true when all is written.
    func drain(until deadline: ContinuousClock.Instant) async -> Bool {
        while !isEmpty {
            if ContinuousClock.now >= deadline { return false }
            await WakeSignal.waitAny([(written, written.generation)], timeout: .milliseconds(50), clock: clock)
        }
        return true
    }

    /// Takes the queue and writes it in one transaction, retrying with backoff until the store takes
    /// it. Returns false when there was nothing to write.
    private func writeOnce() async -> Bool {
        let batch = state.withLock { s -> [CompletedDelivery] in
            let take = Array(s.queue.prefix(maxBatch))
            s.queue.removeFirst(take.count)
            s.writing = take.map(\.id)
            return take
        }
        guard !batch.isEmpty else { return false }
        var wait = Duration.milliseconds(100)
        var failures = 0
        while true {
            do {
                let lost = try await store.complete(batch, owner: owner, now: now())
                for id in lost {
                    logger.warning("lease was lost before the outcome was recorded; another worker owns this delivery now",
                                   metadata: ["delivery.id": "\(id)"])
                }
                if failures > 0 {
                    logger.notice("delivery outcomes recorded after the store recovered",
                                  metadata: ["deliveries.count": "\(batch.count)", "store.failures": "\(failures)"])
                }
                break
            } catch {
                failures += 1
                if failures == 1 {
                    logger.error("cannot record delivery outcomes; keeping them in memory and retrying",
                                 metadata: ["deliveries.count": "\(batch.count)", "error": "\(error)"])
                }
                do { try await clock.sleep(for: wait) } catch {
                    logger.error("delivery outcomes not recorded before shutdown; they are attempted again when their leases expire",
                                 metadata: ["deliveries.count": "\(batch.count)", "error": "\(error)"])
                    break
                }
                wait = min(wait * 2, .seconds(5))
            }
        }
        state.withLock { $0.writing = [] }
        written.signal()
        return true
    }
}
