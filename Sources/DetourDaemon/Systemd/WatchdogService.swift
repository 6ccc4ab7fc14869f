import ServiceLifecycle

/// Sends systemd's watchdog keep-alive (`WATCHDOG=1`) every `interval` until graceful shutdown,
/// so systemd restarts the daemon if it hangs. Use `SystemdNotifier.watchdogInterval` as the
/// interval; when that is nil, systemd expects no keep-alive and this service is not needed.
public struct WatchdogService<C: Clock>: Service where C.Duration == Duration {
    public let notifier: SystemdNotifier
    public let interval: Duration
    private let clock: C

    /// - Parameter clock: what the interval is measured on; tests pass a clock they drive.
    public init(notifier: SystemdNotifier, interval: Duration, clock: C) {
        self.notifier = notifier
        self.interval = interval
        self.clock = clock
    }

    public func run() async throws {
        let (clock, interval) = (self.clock, self.interval)
        notifier.watchdog()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown {
                    try await clock.sleep(for: interval)
                }
            } catch {
                return  // cancelled: shutdown has begun
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            notifier.watchdog()
        }
    }
}

extension WatchdogService where C == ContinuousClock {
    /// A watchdog on the real clock.
    public init(notifier: SystemdNotifier, interval: Duration) {
        self.init(notifier: notifier, interval: interval, clock: ContinuousClock())
    }
}
