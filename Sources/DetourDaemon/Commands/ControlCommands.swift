import DetourCore
import DetourStore
import Foundation
import Logging

/// Answers the CLI's requests on the control socket. Manual actions are recorded with the caller
/// (uid from SO_PEERCRED) in the audit log.
public struct ControlCommands: Sendable {
    let coordinator: FailoverCoordinator
    let store: any Store
    let daemon: StatusReport.Daemon
    let configPath: String
    let environment: [String: String]
    let logger: Logger
    let notifier: SystemdNotifier

    /// The most rows a listing returns, whatever the CLI asks for.
    static let listingLimit = 10_000

    public func handle(_ request: ControlRequest, caller: Caller) async -> ControlResponse {
        do {
            return try await answer(request, by: caller)
        } catch let error as CommandError {
            return .failure(error.message, hint: error.hint)
        } catch {
            logger.error("control request failed", metadata: ["control.request": "\(request.name.rawValue)", "control.error": "\(error)"])
            return .failure("\(request.name.rawValue) failed: \(error)", hint: "the daemon's log has details", code: .failed)
        }
    }

    private func answer(_ request: ControlRequest, by caller: Caller) async throws -> ControlResponse {
        // On a cluster the audit log names the node the operator asked as well as who they are.
        let who = await coordinator.nodeName.map { "\(caller) on \($0)" } ?? caller.description
        switch request {
        case .status:
            return .status(try await coordinator.statusReport(daemon: daemon))
        case .failoverStart(let start):
            try required(start.reason, "reason")
            logger.notice("manual failover requested", metadata: ["business": "\(start.business)", "caller": "\(who)"])
            return .message(try await decide(request, by: who))
        case .failoverStop:
            return .message(try await decide(request, by: who))
        case .hold(let hold):
            try required(hold.reason, "reason")
            return .message(try await decide(request, by: who))
        case .release:
            return .message(try await decide(request, by: who))
        case .incidents(var filter):
            filter.limit = Self.clamp(filter.limit)
            return .incidents(try await store.incidents(filter))
        case .deliveries(var filter):
            filter.limit = Self.clamp(filter.limit)
            return .deliveries(try await store.deliveries(filter))
        case .retry(let selection):
            return .message(try await retry(selection, by: who))
        case .reload:
            notifier.reloading()
            let report = await coordinator.reload(configPath: configPath, environment: environment, by: who)
            notifier.ready(status: report.ok ? "reloaded: \(report.message)" : "reload refused; running configuration kept")
            guard report.ok else {
                throw CommandError(message: report.message, hint: "fix the files and run `detour reload` again; `detour policy check` shows every problem")
            }
            return .message("reloaded: \(report.message)")
        case .audit(let query):
            return .audit(try await store.audit(business: query.business, limit: Self.clamp(query.limit)))
        }
    }

    /// Carries out an operator's change here when this node decides, or passes it to the leader
    /// through the store and waits for the leader's answer.
    private func decide(_ request: ControlRequest, by who: String) async throws -> String {
        if await coordinator.passesChangesToLeader, let postgres = store as? PostgresStore, let node = await coordinator.nodeName {
            return try await LeaderRelay(store: postgres, node: node).pass(request, by: who)
        }
        return try await coordinator.carryOut(request, by: who)
    }

    private func retry(_ selection: RetrySelection, by who: String) async throws -> String {
        let requeue: RequeueSelection
        let what: String
        let business: BusinessID?
        switch selection {
        case .ids(let ids):
            guard !ids.isEmpty else { throw CommandError(message: "no delivery ids given", hint: "name ids, or use --dead") }
            requeue = .ids(ids)
            what = "deliveries \(ids.map(String.init).joined(separator: ","))"
            business = nil
        case .dead(let of):
            requeue = .dead(business: of)
            what = "every dead delivery\(of.map { " of \($0)" } ?? "")"
            business = of
        }
        let n = try await store.requeue(requeue, now: Date(), audit: AuditEntry(
            at: Date(), actor: who, action: "deliveries.retry", business: business, incident: nil, detail: "requeued \(what)"))
        coordinator.wakeWorkers()
        return "requeued \(n) deliver\(n == 1 ? "y" : "ies")"
    }

    private func required(_ value: String, _ key: String) throws {
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CommandError(message: "missing \(key)", hint: "pass --\(key)")
        }
    }

    private static func clamp(_ limit: Int) -> Int { min(max(limit, 0), listingLimit) }
}
