import DetourCore
import DetourTransport
import Foundation
import Logging

/// Posts on the business's Bluesky account: signs in with an app password
/// (`com.atproto.server.createSession`), then creates an `app.bsky.feed.post` record
/// (`com.atproto.repo.createRecord`) with a link facet for each URL (UTF-8 byte offsets, as the AT
/// Protocol counts). The all-clear is a reply to the outage post. An expired access token
/// (`ExpiredToken`) is renewed with the refresh token, or by signing in again, and the post tried
/// once more. The reply kept is `bluesky AT-URI CID`.
public struct BlueskyPoster: Channel {
    let settings: SocialAccount.Bluesky
    let texts: SocialText
    let http: SocialClient
    let session: Session
    let logger: Logger

    public init(settings: SocialAccount.Bluesky, templates: TemplateRefs, network: WebhookNetwork, client: CurlHTTPClient,
                logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) throws(TemplateRenderer.Problem) {
        self.settings = settings; self.texts = try SocialText(templates); self.logger = logger
        http = SocialClient(kind: .bluesky, network: network, client: client, secrets: [settings.appPassword.reveal()], now: now)
        session = Session()
    }

    /// The signed-in session, shared by every post of this account.
    actor Session {
        struct Tokens { var access: String; var refresh: String; var did: String }
        var tokens: Tokens?
        func set(_ t: Tokens?) { tokens = t }
    }

    var base: String { "\(SocialClient.trimmed(settings.service))/xrpc" }

    public func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt {
        let text = texts.render(message.context)
        let length = SocialText.length(text, for: .bluesky)
        guard !text.isEmpty, length <= 300 else {
            throw http.fail("too-long", text.isEmpty ? "the template renders an empty post" : "the post is \(length) graphemes; Bluesky takes 300", retryable: false)
        }
        var tokens = try await signedIn()
        var record: [String: Any] = ["$type": "app.bsky.feed.post", "text": text, "createdAt": Self.timestamp(http.now())]
        if let language = settings.language { record["langs"] = [language] }
        let facets = Self.facets(text)
        if !facets.isEmpty { record["facets"] = facets }
        if let (uri, cid) = Self.post(message.inReplyTo) {
            record["reply"] = ["root": ["uri": uri, "cid": cid], "parent": ["uri": uri, "cid": cid]]
        }
        for attempt in 0..<2 {
            let body: [String: Any] = ["repo": tokens.did, "collection": "app.bsky.feed.post", "record": record]
            let (response, json) = try await http.send("\(base)/com.atproto.repo.createRecord", headers: ["Authorization": "Bearer \(tokens.access)"],
                                                       json: body, logger: logger)
            if (200...299).contains(response.status), let uri = json?["uri"] as? String, let cid = json?["cid"] as? String {
                return DeliveryReceipt(reply: "bluesky \(uri) \(cid)")
            }
            let error = json?["error"] as? String
            let tokenRefused = error == "ExpiredToken" || error == "InvalidToken" || (response.status == 401 && error != "AuthenticationRequired")
            guard tokenRefused else { throw failure(response, json) }
            if attempt == 0 {
                tokens = try await renewed(tokens)
                continue
            }
            await session.set(nil)
        }
        throw http.fail("auth", "the session was refused again right after it was renewed; trying later with a new one", retryable: true)
    }

    private func failure(_ response: HTTPResponse, _ json: [String: Any]?) -> DeliveryError {
        let said = "as \(settings.handle)" + http.quote((json?["error"] as? String).map { e in
            (json?["message"] as? String).map { "\(e) \($0)" } ?? e
        })
        var wait: Duration?
        if response.status == 429, let reset = response.headers["ratelimit-reset"].flatMap(Double.init) {
            wait = .seconds(Int64(min(3600, max(1, (reset - http.now().timeIntervalSince1970).rounded(.up)))))
        }
        return http.failure(response, said: said, retryAfter: wait)
    }

    private func signedIn() async throws(DeliveryError) -> Session.Tokens {
        if let t = await session.tokens { return t }
        return try await createSession()
    }

    private func createSession() async throws(DeliveryError) -> Session.Tokens {
        let (response, json) = try await http.send("\(base)/com.atproto.server.createSession",
                                                   json: ["identifier": settings.handle, "password": settings.appPassword.reveal()], logger: logger)
        guard (200...299).contains(response.status), let access = json?["accessJwt"] as? String,
              let refresh = json?["refreshJwt"] as? String, let did = json?["did"] as? String else {
            await session.set(nil)
            throw failure(response, json)
        }
        let t = Session.Tokens(access: access, refresh: refresh, did: did)
        await session.set(t)
        return t
    }

    /// New tokens from the refresh token (which rotates), or a new session when that is refused.
    private func renewed(_ old: Session.Tokens) async throws(DeliveryError) -> Session.Tokens {
        let (response, json) = try await http.send("\(base)/com.atproto.server.refreshSession", headers: ["Authorization": "Bearer \(old.refresh)"],
                                                   logger: logger)
        if (200...299).contains(response.status), let access = json?["accessJwt"] as? String, let refresh = json?["refreshJwt"] as? String {
            let t = Session.Tokens(access: access, refresh: refresh, did: json?["did"] as? String ?? old.did)
            await session.set(t)
            return t
        }
        logger.info("bluesky refresh token refused; signing in again", metadata: ["http.status": "\(response.status)"])
        return try await createSession()
    }

    /// A link facet for each URL, at its UTF-8 byte offsets.
    static func facets(_ text: String) -> [[String: Any]] {
        SocialText.links(in: text).map { range in
            let start = text.utf8.distance(from: text.utf8.startIndex, to: range.lowerBound)
            let end = start + text[range].utf8.count
            return ["index": ["byteStart": start, "byteEnd": end],
                    "features": [["$type": "app.bsky.richtext.facet#link", "uri": String(text[range])]]]
        }
    }

    /// The post in a kept reply (`bluesky at://… bafy…`).
    static func post(_ reply: String?) -> (String, String)? {
        guard let parts = reply?.split(separator: " "), parts.count == 3, parts[0] == "bluesky" else { return nil }
        return (String(parts[1]), String(parts[2]))
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}
