import AsyncAlgorithms
import ServiceLifecycle

/// Keeps the banners of open incidents from expiring: every `interval`, the delivering side pushes
/// their expiry forward. A banner a page shows expires by itself if the daemon stops renewing it.
struct BannerRenewalService<C: Clock>: Service where C.Duration == Duration {
    let desk: DeliveryDesk
    let interval: Duration
    let clock: C

    func run() async throws {
        for await _ in AsyncTimerSequence(interval: interval, clock: clock).cancelOnGracefulShutdown() {
            await desk.renewBanners()
        }
    }
}

extension BannerRenewalService: CustomStringConvertible { var description: String { "BannerRenewalService" } }
