import Logging
import ServiceLifecycle

/// Sends systemd's watchdog keep-alive (`WATCHDOG=1`) every `interval` until graceful shutdown,
/// so systemd restarts the daemon if it hangs. Use `SystemdNotifier.watchdogInterval` as the
/// interval; when that is nil, systemd expects no keep-alive and this service is not needed.
///
/// The keep-alive tells the truth: it is sent only while `stalls` is empty, i.e. while the decision
/// loop and the delivery loops are actually turning (`Heartbeats`). A stalled daemon stops pinging,
/// says which loop is stuck in its log, and systemd restarts it after `WatchdogSec`.
public struct WatchdogService<C: Clock>: Service where C.Duration == Duration {
    public let notifier: SystemdNotifier
    public let interval: Duration
    private let clock: C
    private let stalls: @Sendable () -> [Heartbeats.Stall]
    private let logger: Logger?

    /// - Parameters:
    ///   - clock: what the interval is measured on; tests pass a clock they drive.
    ///   - stalls: the loops that are stuck now; no keep-alive is sent while there is one.
    public init(notifier: SystemdNotifier, interval: Duration, clock: C,
                stalls: @escaping @Sendable () -> [Heartbeats.Stall] = { [] }, logger: Logger? = nil) {
        self.notifier = notifier
        self.interval = interval
        self.clock = clock
        self.stalls = stalls
        self.logger = logger
    }

    public func run() async throws {
        let (clock, interval) = (self.clock, self.interval)
        var wasStalled = false
        let ping = {
            let stuck = stalls()
            if stuck.isEmpty {
                if wasStalled { logger?.notice("every loop turns again; watchdog keep-alives resume") }
                wasStalled = false
                notifier.watchdog()
            } else if !wasStalled {
                wasStalled = true
                logger?.critical("a daemon loop is stuck; no watchdog keep-alive until it turns (systemd restarts the daemon after WatchdogSec)",
                                 metadata: ["stalls": "\(stuck.map(\.description).joined(separator: "; "))"])
            }
        }
        ping()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown {
                    try await clock.sleep(for: interval)
                }
            } catch {
                return  // cancelled: shutdown has begun
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            ping()
        }
    }
}

extension WatchdogService where C == ContinuousClock {
    /// A watchdog on the real clock.
    public init(notifier: SystemdNotifier, interval: Duration) {
        self.init(notifier: notifier, interval: interval, clock: ContinuousClock())
    }
}
