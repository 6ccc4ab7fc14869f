import ArgumentParser

/// The `detour` command: the daemon and the operator's tools.
@main
struct Detour: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detour",
        abstract: "Keep a business reachable when Facebook, Instagram, Threads, Messenger or WhatsApp goes down.",
        discussion: """
        Detour watches the platforms your businesses depend on and, when one fails, tells their customers
        where to go instead: by email, with a banner on their website, and through webhooks.

        Start here:
          detour policy check --config /etc/detour/detour.yaml    validate every file
          detour policy show rosies-bakery                        the effective policy of one business
          detour probe --platform instagram                       is it down, or is it us?
          detour send-test --business rosies-bakery --channel email --to you@example.com
          detour run --config /etc/detour/detour.yaml             the daemon (systemd runs this)

        Operating the running daemon (over its control socket):
          detour status                                           platforms, failed-over businesses, queue
          detour failover start --business B --reason TEXT        fail over by hand; `failover stop` ends it
          detour hold --business B --for 2h --reason TEXT         no automatic failover for a while
          detour incidents / detour deliveries --state dead       history and the outbox

        The configuration file is taken from --config, else $DETOUR_CONFIG, else /etc/detour/detour.yaml.
        """,
        version: "0.1.0",
        subcommands: [RunCommand.self, StatusCommand.self, FailoverCommand.self, HoldCommand.self, ReleaseCommand.self,
                      IncidentsCommand.self, DeliveriesCommand.self, ReloadCommand.self, PolicyCommand.self, ProbeCommand.self,
                      SendTestCommand.self]
    )
}
