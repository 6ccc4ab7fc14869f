import ArgumentParser
import DetourCore

/// The `detour` command: the daemon and the operator's tools.
@main
struct Detour: AsyncParsableCommand {
    // Help texts are written to fit 80 columns as they are (lines of at most 79 characters, abstracts
    // of at most 69): the argument parser re-wraps anything longer, mid-table. CLIHelpTests checks it.
    static let configuration = CommandConfiguration(
        commandName: "detour",
        abstract: "Keep a business reachable when its social platform goes down.",
        discussion: """
        Detour watches Facebook, Instagram, Threads, Messenger and WhatsApp (and
        any service you add) and, when one that a business depends on fails, tells
        its customers where to go instead: by email, with a banner on its website,
        and through webhooks.

        Start here:
          detour policy check --config /etc/detour/detour.yaml
              validate every file
          detour policy show rosies-bakery
              the effective policy of one business
          detour probe --platform instagram
              is it down, or is it us?
          detour send-test --business rosies-bakery --channel email \\
              --to you@example.com
              one real test message through one channel
          detour run --config /etc/detour/detour.yaml
              the daemon (systemd runs this)

        Operating the running daemon (over its control socket):
          detour status
              platforms, failed-over businesses, the queue
          detour failover start --business B --reason TEXT
              fail over by hand; `detour failover stop --business B` ends it
          detour hold --business B --for 2h --reason TEXT
              no automatic failover for a while; `detour release` ends it
          detour incidents
          detour deliveries --state dead
          detour audit
              history, the outbox, and who did what when

        The configuration file is taken from --config, else $DETOUR_CONFIG,
        else /etc/detour/detour.yaml.
        """,
        version: BuildInfo.version,
        subcommands: [RunCommand.self, StatusCommand.self, FailoverCommand.self, HoldCommand.self, ReleaseCommand.self,
                      IncidentsCommand.self, DeliveriesCommand.self, AuditCommand.self, ReloadCommand.self, PolicyCommand.self, ProbeCommand.self,
                      SendTestCommand.self, StoreCommand.self]
    )
}
