import ServiceLifecycle

/// Keeps the banners of open incidents from expiring: every `interval`, the delivering side pushes
/// their expiry forward. A banner a page shows expires by itself if the daemon stops renewing it.
struct BannerRenewalService: Service {
    let desk: DeliveryDesk
    let interval: Duration
    let clock: any Clock<Duration>

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { return }
            await desk.renewBanners()
        }
    }
}

extension BannerRenewalService: CustomStringConvertible { var description: String { "BannerRenewalService" } }
