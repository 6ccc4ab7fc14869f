import DetourStore
import Foundation
import Logging
import ServiceLifecycle

/// On a cluster (several nodes on one PostgreSQL database), takes and keeps the leader lease for
/// this node, every third of its length, and tells the deciding side whether it leads. Only the
/// leader decides; every node delivers.
///
/// The store is fenced with the lease: an incident write carries the lease's term and is refused
/// once another node has taken over, so a leader that was paused past its lease (SIGSTOP, a frozen
/// VM) and resumes cannot write anything; it finds out at its next renewal and steps down. When the
/// database cannot be reached, the leader keeps deciding only until its lease would have expired.
struct LeadershipService: Service {
    let store: PostgresStore
    let coordinator: FailoverCoordinator
    let node: String
    let lease: Duration
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date
    var health: StoreHealth?
    let logger: Logger

    func run() async throws {
        var held: LeaderLease?
        let startedAt = now()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let at = now()
            do {
                try await store.heartbeat(node: node, startedAt: startedAt, now: at)
                let got = try await store.lead(node: node, lease: lease, now: at)
                if let got {
                    if held?.term != got.term {
                        store.fence(with: got)
                        logger.notice("took the leader lease", metadata: ["node": "\(node)", "leader.term": "\(got.term)"])
                    }
                    held = got
                    await coordinator.setLeading(true, leader: node)
                } else {
                    if let old = held {
                        logger.warning("lost the leader lease to another node; stepping down",
                                       metadata: ["node": "\(node)", "leader.term": "\(old.term)"])
                    }
                    held = nil
                    let leader = try? await store.leader()
                    await coordinator.setLeading(false, leader: leader?.node)
                }
                health?.worked()
            } catch {
                health?.failed(error, at: now())
                logger.error("cannot renew the leader lease", metadata: ["node": "\(node)", "error": "\(error)"])
                if let old = held, old.expiresAt <= now() {
                    logger.warning("the leader lease has expired without renewal; stepping down", metadata: ["node": "\(node)"])
                    held = nil
                    await coordinator.setLeading(false, leader: nil)
                }
            }
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: lease / 3) } } catch { break }
        }
        if let held {
            await coordinator.setLeading(false, leader: nil)
            try? await store.stepDown(held, now: now())
            logger.notice("gave up the leader lease", metadata: ["node": "\(node)"])
        }
    }
}
