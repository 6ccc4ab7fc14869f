import ArgumentParser
import DetourCore
import DetourDaemon
import Foundation

/// `detour status`: what the running daemon sees and does.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Platforms, failovers, holds and the queue.",
        usage: """
        detour status [--config <path>] [--socket <path>] [--json]
        """,
        discussion: """
        Shows every platform's status, every business that is failed over or on
        hold, the delivery queue and the last reload. Asks the running daemon over
        its control socket. Businesses that are quietly watched are counted, not
        listed; `detour incidents` shows past incidents.

        Examples:
          detour status
          detour status --json | jq '.platforms[] | select(.state != "operational")'
        """
    )

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let r = try daemon.send(.status, answer: \.statusReport)
        if daemon.json { try daemon.printJSON(r); return }
        Output.line("detour \(r.daemon.version), pid \(r.daemon.pid), up since \(Output.time(r.daemon.startedAt)); config \(r.daemon.config)")
        if let c = r.cluster {
            Output.line("")
            let leader = c.leader.map { "\($0) leads (term \(c.term ?? 0), lease until \(c.leaseExpiresAt.map(Output.time) ?? "?"))" }
                ?? "no node leads yet"
            Output.line("CLUSTER  this node: \(c.node), \(c.leads ? "leading" : "following"); \(leader)")
            if let trouble = c.database { Output.line("  DATABASE TROUBLE: \(trouble)") }
            Output.table(["node", "started", "last heartbeat"],
                         c.nodes.map { [$0.name, Output.time($0.startedAt), Output.ago($0.lastHeartbeat)] })
            if let views = c.views, !views.isEmpty {
                Output.line("")
                Output.line("VIEWS  each node's own view; a platform is down when \(c.quorum.map { "\($0)" } ?? "a majority") of the nodes whose controls pass see it down")
                Output.table(["node", "platform", "sees", "controls", "as of"],
                             views.map { [$0.node, $0.platform.rawValue, $0.state.rawValue, $0.controlsPass ? "pass" : "FAIL", Output.ago($0.at)] })
            }
        }
        Output.line("")
        Output.line("PLATFORMS")
        Output.table(["platform", "status", "since", "reason"],
                     r.platforms.map { [$0.platform, $0.state, Output.ago($0.since), $0.reason] })
        for p in r.platforms {
            for alert in p.alerts ?? [] { Output.line("  ! \(p.platform): \(alert)") }
        }
        Output.line("")
        Output.line("BUSINESSES (\(r.businesses.count) failed over or on hold, \(r.quietBusinesses) quiet)")
        if r.businesses.isEmpty { Output.line("  none: every business is on its usual channels") }
        for b in r.businesses {
            var what: [String] = []
            if let i = b.incident {
                what.append("incident \(i.id) open since \(Output.ago(i.openedAt)) (\(i.origin == .manual ? "by hand: \(i.openedBy)" : "probes"); \(i.platforms.map(\.rawValue).joined(separator: ", ")))")
            }
            if let h = b.hold {
                what.append("on hold \(h.expiresAt.map { "until \(Output.time($0))" } ?? "until released") by \(h.setBy): \(h.reason)")
            }
            Output.line("  \(b.business) (\(b.name)): \(what.joined(separator: "; "))")
            Output.line("    \(b.explanation)")
        }
        if let disabled = r.disabledWebhooks, !disabled.isEmpty {
            Output.line("")
            Output.line("DISABLED WEBHOOKS (HTTP 410 Gone; a reload that changes the policy enables them again)")
            Output.table(["business", "webhook", "since", "reason"],
                         disabled.map { [$0.business, $0.webhook, Output.ago($0.since), $0.reason] })
        }
        Output.line("")
        let order = ["queued", "sending", "failed", "sent", "dead"]
        Output.line("QUEUE  " + order.map { "\($0) \(r.queue[$0] ?? 0)" }.joined(separator: "  "))
        Output.line("")
        Output.line("LAST RELOAD  \(Output.time(r.lastReload.at)): \(r.lastReload.ok ? "ok" : "REFUSED")")
        for l in r.lastReload.message.split(separator: "\n") { Output.line("  \(l)") }
    }
}
