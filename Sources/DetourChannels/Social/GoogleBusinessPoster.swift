import DetourCore
import DetourTransport
import Foundation
import Logging

/// Posts an update on the business's Google Business Profile (`POST {base}/v4/accounts/{a}/locations/{l}/localPosts`),
/// so customers who look the business up on Google Maps or Search see where to reach it. The
/// access token comes from the OAuth 2.0 refresh token at the token endpoint and is kept until a
/// minute before it expires; a 401 gets a new one and one more try. Google posts have no replies:
/// the all-clear is a new post. `invalid_grant` (the refresh token expired or was revoked) is
/// permanent. The reply kept is `google accounts/…/localPosts/…`.
public struct GoogleBusinessPoster: Channel {
    let settings: SocialAccount.GoogleBusiness
    let texts: SocialText
    let http: SocialClient
    let token: TokenCache
    let logger: Logger

    public init(settings: SocialAccount.GoogleBusiness, templates: TemplateRefs, network: WebhookNetwork, client: CurlHTTPClient,
                logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) throws(TemplateRenderer.Problem) {
        self.settings = settings; self.texts = try SocialText(templates); self.logger = logger
        http = SocialClient(kind: .googleBusiness, network: network, client: client,
                            secrets: [settings.clientSecret.reveal(), settings.refreshToken.reveal()], now: now)
        token = TokenCache()
    }

    actor TokenCache {
        var value: (token: String, until: Date)?
        func set(_ v: (token: String, until: Date)?) { value = v }
    }

    public func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt {
        let text = texts.render(message.context)
        guard !text.isEmpty, text.count <= 1500 else {
            throw http.fail("too-long", text.isEmpty ? "the template renders an empty post" : "the post is \(text.count) characters; Google takes 1,500", retryable: false)
        }
        var body: [String: Any] = ["languageCode": settings.language, "summary": text, "topicType": "STANDARD"]
        if let action = settings.actionType {
            var cta: [String: Any] = ["actionType": action]
            if let url = settings.actionURL { cta["url"] = url }
            body["callToAction"] = cta
        }
        let url = "\(SocialClient.trimmed(settings.baseURL))/v4/accounts/\(settings.accountID)/locations/\(settings.locationID)/localPosts"
        for attempt in 0..<2 {
            let access = try await accessToken()
            let (response, json) = try await http.send(url, headers: ["Authorization": "Bearer \(access)"], json: body, logger: logger)
            if (200...299).contains(response.status), let name = json?["name"] as? String {
                return DeliveryReceipt(reply: "google \(name)")
            }
            if response.status == 401 {
                await token.set(nil)
                if attempt == 0 { continue }
                break
            }
            let error = json?["error"] as? [String: Any]
            let said = "for location \(settings.locationID)" + http.quote((error?["status"] as? String).map { s in
                (error?["message"] as? String).map { "\(s) \($0)" } ?? s
            })
            throw http.failure(response, said: said)
        }
        throw http.fail("auth", "Google refused a freshly issued access token", retryable: true)
    }

    /// A valid access token, from the cache or the token endpoint.
    private func accessToken() async throws(DeliveryError) -> String {
        if let v = await token.value, v.until > http.now() { return v.token }
        let form = [("grant_type", "refresh_token"), ("client_id", settings.clientID),
                    ("client_secret", settings.clientSecret.reveal()), ("refresh_token", settings.refreshToken.reveal())]
        let (response, json) = try await http.send(settings.tokenURL, form: form, logger: logger)
        if (200...299).contains(response.status), let access = json?["access_token"] as? String {
            let life = (json?["expires_in"] as? NSNumber)?.doubleValue ?? 3600
            await token.set((access, http.now().addingTimeInterval(max(0, life - 60))))
            return access
        }
        let error = json?["error"] as? String
        let said = "from the token endpoint" + http.quote(error.map { e in (json?["error_description"] as? String).map { "\(e) \($0)" } ?? e })
        if error == "invalid_grant" || error == "invalid_client" || error == "unauthorized_client" {
            throw http.fail("auth", "HTTP \(response.status) \(said) (renew the refresh token)", retryable: false)
        }
        throw http.failure(response, said: said, code: "token")
    }
}

/// The channel that posts for a social account.
public enum SocialPosters {
    public static func make(_ channel: SocialChannel, network: WebhookNetwork, client: CurlHTTPClient, logger: Logger,
                            now: @escaping @Sendable () -> Date = { Date() }) throws(TemplateRenderer.Problem) -> any Channel {
        switch channel.account {
        case .telegram(let s): try TelegramPoster(settings: s, templates: channel.templates, network: network, client: client, logger: logger, now: now)
        case .mastodon(let s): try MastodonPoster(settings: s, templates: channel.templates, network: network, client: client, logger: logger, now: now)
        case .bluesky(let s): try BlueskyPoster(settings: s, templates: channel.templates, network: network, client: client, logger: logger, now: now)
        case .googleBusiness(let s): try GoogleBusinessPoster(settings: s, templates: channel.templates, network: network, client: client, logger: logger, now: now)
        }
    }
}
