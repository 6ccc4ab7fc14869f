import DetourChannels
import DetourConfig
import DetourCore
import DetourTransport
import Foundation
import Logging

/// The channels of every business under one configuration: one email sender per business (over
/// SMTP pools shared per server), one SMS sender per business, one webhook sender per webhook, one
/// banner publisher per business.
///
/// A channel that cannot be built (a template file that no longer parses) is kept as its error, so
/// that its deliveries fail with that error while every other channel goes on working.
public final class ChannelSet: Sendable {
    private let email: [BusinessID: EmailChannelSender]
    private let webhooks: [BusinessID: [String: Result<WebhookSender, DeliveryError>]]
    private let banners: [BusinessID: Result<BannerPublisher, DeliveryError>]
    private let texts: [BusinessID: Result<SMSSender, DeliveryError>]
    private let posts: [BusinessID: [ChannelKind: Result<any Channel, DeliveryError>]]

    public init(policies: [Policy], daemon: DaemonConfig, pools: SMTPPools, http: CurlHTTPClient,
                bannerState: BannerState, logger: Logger) async {
        var email: [BusinessID: EmailChannelSender] = [:]
        var webhooks: [BusinessID: [String: Result<WebhookSender, DeliveryError>]] = [:]
        var banners: [BusinessID: Result<BannerPublisher, DeliveryError>] = [:]
        var texts: [BusinessID: Result<SMSSender, DeliveryError>] = [:]
        var posts: [BusinessID: [ChannelKind: Result<any Channel, DeliveryError>]] = [:]
        for policy in policies {
            var log = logger
            log[metadataKey: "business"] = "\(policy.business)"
            if let settings = policy.email, let server = daemon.smtp[settings.smtp] {
                let pool = await pools.pool(for: server)
                email[policy.business] = EmailChannelSender(settings: settings, server: server, pool: pool, logger: log)
            }
            var hooks: [String: Result<WebhookSender, DeliveryError>] = [:]
            for webhook in policy.webhooks {
                do {
                    hooks[webhook.name] = .success(try WebhookSender(webhook: webhook, network: daemon.webhooks, client: http, logger: log))
                } catch {
                    hooks[webhook.name] = .failure(DeliveryError(code: "webhook.template", message: "webhook \(webhook.name) of \(policy.business): \(error)", retryable: false))
                }
            }
            webhooks[policy.business] = hooks
            if let settings = policy.sms {
                do {
                    texts[policy.business] = .success(try SMSSender(settings: settings, network: daemon.webhooks, client: http, logger: log))
                } catch {
                    texts[policy.business] = .failure(DeliveryError(code: "sms.template", message: "sms of \(policy.business): \(error)", retryable: false))
                }
            }
            for social in policy.social {
                do {
                    posts[policy.business, default: [:]][social.kind] = .success(try SocialPosters.make(social, network: daemon.webhooks, client: http, logger: log))
                } catch {
                    posts[policy.business, default: [:]][social.kind] = .failure(
                        DeliveryError(code: "\(social.kind.rawValue).template", message: "\(social.kind.rawValue) of \(policy.business): \(error)", retryable: false))
                }
            }
            if let settings = policy.banner {
                do {
                    banners[policy.business] = .success(try BannerPublisher(business: policy.business, businessName: policy.displayName,
                                                                            settings: settings, state: bannerState))
                } catch {
                    banners[policy.business] = .failure(DeliveryError(code: "banner.template", message: "banner of \(policy.business): \(error)", retryable: false))
                }
            }
        }
        self.email = email; self.webhooks = webhooks; self.banners = banners; self.texts = texts; self.posts = posts
    }

    /// The channel that carries deliveries of `kind` to `target` for this business.
    public func channel(business: BusinessID, kind: ChannelKind, target: String) -> Result<any Channel, DeliveryError> {
        switch kind {
        case .email:
            if let sender = email[business] { return .success(sender) }
            return .failure(DeliveryError(code: "email.unconfigured", message: "\(business) has no email channel (or its SMTP server is gone) in the current policy", retryable: false))
        case .webhook:
            guard let found = webhooks[business]?[target] else {
                return .failure(DeliveryError(code: "webhook.unconfigured", message: "\(business) has no webhook named '\(target)' in the current policy", retryable: false))
            }
            return found.map { $0 as any Channel }
        case .sms:
            guard let found = texts[business] else {
                return .failure(DeliveryError(code: "sms.unconfigured", message: "\(business) has no sms channel in the current policy", retryable: false))
            }
            return found.map { $0 as any Channel }
        case .telegram, .mastodon, .bluesky, .googleBusiness:
            guard let found = posts[business]?[kind] else {
                return .failure(DeliveryError(code: "\(kind.rawValue).unconfigured", message: "\(business) has no \(kind.rawValue) channel in the current policy", retryable: false))
            }
            return found
        case .banner:
            guard let found = banners[business] else {
                return .failure(DeliveryError(code: "banner.unconfigured", message: "\(business) has no banner channel in the current policy", retryable: false))
            }
            return found.map { $0 as any Channel }
        }
    }

    /// Every banner publisher that could be built.
    public var bannerPublishers: [BusinessID: BannerPublisher] {
        banners.compactMapValues { try? $0.get() }
    }
}

/// SMTP connection pools, one per configured server, kept across reloads while a server's settings stay the same.
public actor SMTPPools {
    private var pools: [String: (server: SMTPServer, pool: SMTPConnectionPool)] = [:]
    private let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func pool(for server: SMTPServer) async -> SMTPConnectionPool {
        if let existing = pools[server.name] {
            if existing.server == server { return existing.pool }
            await existing.pool.close()
        }
        var log = logger
        log[metadataKey: "smtp.server"] = "\(server.name)"
        let pool = server.makePool(logger: log)
        pools[server.name] = (server, pool)
        return pool
    }

    public func closeAll() async {
        for (_, entry) in pools { await entry.pool.close() }
        pools = [:]
    }
}
