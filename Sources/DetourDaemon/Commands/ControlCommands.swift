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

    public func handle(_ request: ControlRequest, caller: Caller) async -> ControlResponse {
        guard let command = ControlCommand(rawValue: request.command) else {
            return ControlResponse(ok: false, error: "unknown command '\(request.command)'",
                                   hint: "this daemon understands: \(ControlCommand.allCases.map(\.rawValue).joined(separator: ", ")); is the CLI newer than the daemon?", body: nil)
        }
        let args = request.arguments
        do {
            let body: String
            switch command {
            case .status:
                body = try ControlJSON.encode(await coordinator.statusReport(daemon: daemon))
            case .failoverStart:
                let reason = try required(args, "reason")
                let platforms = (args["platforms"] ?? "").split(separator: ",").map { PlatformID(String($0)) }
                let who = caller.description
                logger.notice("manual failover requested", metadata: ["business": "\(args["business"] ?? "")", "caller": "\(who)"])
                body = try ControlJSON.encode(ActionResult(message: try await coordinator.startFailover(
                    business: BusinessID(try required(args, "business")), platforms: platforms, reason: reason, by: who,
                    newIncident: args["new_incident"] == "true")))
            case .failoverStop:
                body = try ControlJSON.encode(ActionResult(message: try await coordinator.stopFailover(
                    business: BusinessID(try required(args, "business")), by: caller.description)))
            case .hold:
                var until: Date?
                if let text = args["for"], !text.isEmpty {
                    guard let span = TimeSpan(parsing: text), span.milliseconds > 0 else {
                        throw CommandError(message: "'\(text)' is not a duration", hint: "write it like 30m, 2h or 1h30m")
                    }
                    until = Date().addingTimeInterval(span.seconds)
                }
                body = try ControlJSON.encode(ActionResult(message: try await coordinator.hold(
                    business: BusinessID(try required(args, "business")), until: until, reason: try required(args, "reason"), by: caller.description)))
            case .release:
                body = try ControlJSON.encode(ActionResult(message: try await coordinator.release(
                    business: BusinessID(try required(args, "business")), by: caller.description)))
            case .incidents:
                let filter = IncidentFilter(business: args["business"].map { BusinessID($0) },
                                            state: args["state"].flatMap { IncidentState(rawValue: $0) },
                                            limit: Int(args["limit"] ?? "") ?? 50)
                body = try ControlJSON.encode(try await store.incidents(filter))
            case .deliveries:
                var state: DeliveryState?
                if let s = args["state"] {
                    guard let parsed = DeliveryState(rawValue: s) else {
                        throw CommandError(message: "unknown delivery state '\(s)'", hint: "one of: \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    state = parsed
                }
                let filter = DeliveryFilter(business: args["business"].map { BusinessID($0) }, incident: args["incident"].flatMap { Int64($0) },
                                            state: state, channel: args["channel"].flatMap { ChannelKind(rawValue: $0) },
                                            limit: Int(args["limit"] ?? "") ?? 200)
                body = try ControlJSON.encode(try await store.deliveries(filter))
            case .deliveriesRetry:
                let selection: RequeueSelection
                if args["dead"] == "true" {
                    selection = .dead(business: args["business"].map { BusinessID($0) })
                } else {
                    let ids = (args["ids"] ?? "").split(separator: ",").compactMap { Int64($0) }
                    guard !ids.isEmpty else { throw CommandError(message: "no delivery ids given", hint: "name ids, or use --dead") }
                    selection = .ids(ids)
                }
                let what: String = switch selection {
                case .ids(let ids): "deliveries \(ids.map(String.init).joined(separator: ","))"
                case .dead(let b): "every dead delivery\(b.map { " of \($0)" } ?? "")"
                }
                let n = try await store.requeue(selection, now: Date(), audit: AuditEntry(
                    at: Date(), actor: caller.description, action: "deliveries.retry", business: args["business"].map { BusinessID($0) },
                    incident: nil, detail: "requeued \(what)"))
                coordinator.wakeWorkers()
                body = try ControlJSON.encode(ActionResult(message: "requeued \(n) deliver\(n == 1 ? "y" : "ies")"))
            case .reload:
                notifier.reloading()
                let report = await coordinator.reload(configPath: configPath, environment: environment, by: caller.description)
                notifier.ready(status: report.ok ? "reloaded: \(report.message)" : "reload refused; running configuration kept")
                guard report.ok else { throw CommandError(message: report.message, hint: "fix the files and run `detour reload` again; `detour policy check` shows every problem") }
                body = try ControlJSON.encode(ActionResult(message: "reloaded: \(report.message)"))
            case .audit:
                body = try ControlJSON.encode(try await store.audit(business: args["business"].map { BusinessID($0) }, limit: Int(args["limit"] ?? "") ?? 50))
            }
            return ControlResponse(ok: true, error: nil, hint: nil, body: body)
        } catch let error as CommandError {
            return ControlResponse(ok: false, error: error.message, hint: error.hint, body: nil)
        } catch {
            logger.error("control command failed", metadata: ["command": "\(request.command)", "error": "\(error)"])
            return ControlResponse(ok: false, error: "\(request.command) failed: \(error)", hint: "the daemon's log has details", body: nil)
        }
    }

    private func required(_ args: [String: String], _ key: String) throws -> String {
        guard let v = args[key], !v.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CommandError(message: "missing \(key)", hint: "pass --\(key)")
        }
        return v
    }
}
