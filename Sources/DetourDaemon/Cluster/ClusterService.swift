import DetourCore
import DetourStore
import Foundation
import Logging
import ServiceLifecycle

/// What keeps the nodes of a cluster in step, on every node, once a second and whenever another
/// node signals (PostgreSQL `LISTEN/NOTIFY`; polling is the fallback when a signal is missed):
///
/// - records this node's own view of each platform and reads every node's, for the vote;
/// - on a node that does not lead, adopts the incidents and overrides the leader decided;
/// - shows each business's banner as decided, whichever node delivered it;
/// - on the leader, carries out operators' changes asked on other nodes.
///
/// A round that cannot reach the database marks `StoreHealth` (so `/readyz` and `detour status`
/// say so) and changes nothing: the node keeps serving the banners it knows.
struct ClusterService: Service {
    let store: PostgresStore
    let coordinator: FailoverCoordinator
    let desk: DeliveryDesk
    let wake: WakeSignal
    let health: StoreHealth
    let node: String
    let interval: Duration
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date
    let logger: Logger

    func run() async throws {
        let nudge = WakeSignal()
        let listener = Task { await listen(nudge) }
        defer { listener.cancel() }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let seen = nudge.generation
            await round()
            await withGracefulShutdownHandler {
                await nudge.wait(since: seen, timeout: interval, clock: clock)
            } onGracefulShutdown: {
                nudge.signal()
            }
        }
    }

    /// One round; errors end it early and are kept in `health`.
    func round() async {
        do {
            try await store.recordViews(await coordinator.currentOwnViews())
            await coordinator.vote(try await store.views())
            let incidents = try await store.latestIncidents()
            if await !coordinator.isLeading {
                await coordinator.adopt(incidents, overrides: try await store.overrides())
            }
            await desk.showBanners(of: incidents)
            if await coordinator.isLeading { try await carryOutRequests() }
            health.worked()
        } catch {
            if health.trouble == nil {
                logger.error("cannot reach the state database; serving what this node knows until it answers",
                             metadata: ["node": "\(node)", "error": "\(error)"])
            }
            health.failed(error, at: now())
        }
    }

    /// Carries out every operator's change waiting for the leader, oldest first.
    func carryOutRequests() async throws {
        while let request = try await store.takeRequest(node: node, now: now()) {
            let answer: RelayedAnswer
            switch ControlRequest.decode(Data(request.request.utf8)) {
            case .success(let decoded):
                do {
                    let message = try await coordinator.carryOut(decoded, by: request.actor)
                    answer = RelayedAnswer(ok: true, message: message, hint: nil)
                } catch let error as CommandError {
                    answer = RelayedAnswer(ok: false, message: error.message, hint: error.hint)
                } catch {
                    answer = RelayedAnswer(ok: false, message: "\(decoded.name.rawValue) failed on \(node): \(error)", hint: "its log has details")
                }
                logger.notice("carried out a change asked on another node", metadata: [
                    "request": "\(decoded.name.rawValue)", "caller": "\(request.actor)", "ok": "\(answer.ok)"])
            case .failure(let failure):
                answer = RelayedAnswer(ok: false, message: "the leader \(node) cannot read the request: \(failure.message)",
                                       hint: "run the same version of detour on every node")
            }
            try await store.finishRequest(request.id, ok: answer.ok, answer: answer.encoded, now: now())
        }
    }

    /// LISTENs for the other nodes' signals for as long as the service runs, reconnecting after a
    /// second when the connection fails.
    func listen(_ nudge: WakeSignal) async {
        while !Task.isCancelled {
            do {
                try await store.listen { signal in
                    nudge.signal()
                    if signal != .request { wake.signal() }
                }
            } catch {
                logger.debug("listening for other nodes' signals stopped; polling meanwhile", metadata: ["error": "\(error)"])
            }
            try? await clock.sleep(for: .seconds(1))
        }
    }
}

/// The leader's answer to a change asked on another node, as the store keeps it.
struct RelayedAnswer: Codable, Sendable {
    var ok: Bool
    var message: String
    var hint: String?

    var encoded: String { (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? message }

    static func decode(_ text: String, ok: Bool) -> RelayedAnswer {
        (try? JSONDecoder().decode(RelayedAnswer.self, from: Data(text.utf8))) ?? RelayedAnswer(ok: ok, message: text, hint: nil)
    }
}
