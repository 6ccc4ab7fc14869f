@testable import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Logging
import Testing
import TestKit

/// Each social channel against a stand-in that checks requests as the real API does and answers with
/// its real errors: the outage post, the all-clear as a reply to it, rate limits, expired sessions,
/// and tokens that never show.
@Suite(.timeLimit(.minutes(1)))
struct SocialPosterTests {
    static let botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    let dir: TempDir
    let client = CurlHTTPClient(logger: webhookTestLogger)
    let network = WebhookNetwork(allowPrivateTargets: true, timeout: .seconds(5))

    init() throws { dir = try TempDir("social") }

    func standIn(_ script: String, _ config: [String: Any]) throws -> (LocalServer, String) {
        let file = dir.file("\(script)-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: file))
        return (try LocalServer(script: script, arguments: [file]), file)
    }

    func rewrite(_ file: String, _ config: [String: Any]) throws {
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: file))
    }

    func requests(_ file: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: file + ".log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    static func context(_ event: MessageEvent) -> MessageContext {
        MessageContext(event: event, businessID: "salon", businessName: "Rosie's Salon", incidentID: "7", platforms: ["WhatsApp"],
                       since: Date(timeIntervalSince1970: 1_790_000_000), resolvedAt: event == .resolved ? Date(timeIntervalSince1970: 1_790_003_600) : nil,
                       message: event == .resolved ? "" : "Book by phone: 0161 496 0000 — or online.",
                       contacts: [ContactLink(label: "Book online", url: "https://rosies.example/book?via=detour"),
                                  ContactLink(label: "Call", url: "tel:+441614960000")])
    }

    func post(_ channel: any Channel, _ event: MessageEvent, id: String = "detour-abc-7-1-1", replyTo: String? = nil) async -> Result<DeliveryReceipt, DeliveryError> {
        let message = OutgoingMessage(deliveryID: id, recipient: "x", context: Self.context(event), inReplyTo: replyTo)
        do { return .success(try await channel.deliver(message)) } catch { return .failure(error) }
    }

    // MARK: Telegram

    func telegram(_ server: LocalServer, token: String = botToken, chat: String = "@rosies_salon") throws -> TelegramPoster {
        try TelegramPoster(settings: .init(baseURL: "http://127.0.0.1:\(server.port)", botToken: Secret(token, origin: "env:TG"), chatID: chat),
                           templates: TemplateRefs(), network: network, client: client, logger: webhookTestLogger)
    }

    @Test func telegramPostsTheNoticeAndRepliesWithTheAllClear() async throws {
        let (server, file) = try standIn("telegram_server.py", ["bot_token": Self.botToken, "chats": ["@rosies_salon"]])
        let poster = try telegram(server)
        let opened = try await post(poster, .opened).get()
        #expect(opened.reply == "telegram message 1 in @rosies_salon", "\(opened.reply)")
        let resolved = try await post(poster, .resolved, replyTo: opened.reply).get()
        #expect(resolved.reply == "telegram message 2 in @rosies_salon")
        let sent = requests(file)
        #expect(sent.count == 2 && sent.allSatisfy { $0["status"] as? Int == 200 }, "\(sent)")
        let first = try #require(sent.first?["body"] as? [String: Any])
        let text = try #require(first["text"] as? String)
        #expect(text.hasPrefix("Rosie's Salon: WhatsApp is not working") && text.contains("Book online: https://rosies.example/book?via=detour"), "\(text)")
        #expect((first["link_preview_options"] as? [String: Any])?["is_disabled"] as? Bool == true)
        let reply = try #require((sent.last?["body"] as? [String: Any])?["reply_parameters"] as? [String: Any])
        #expect(reply["message_id"] as? Int == 1)
        #expect((sent.first?["path"] as? String)?.hasSuffix("/sendMessage") == true)
    }

    @Test func telegramsRateLimitWaitsForRetryAfterAndAWrongChatIsPermanent() async throws {
        let (server, _) = try standIn("telegram_server.py", ["bot_token": Self.botToken, "chats": ["@rosies_salon"], "rate_limited": 1, "retry_after": 7])
        let limited = try #require(await post(try telegram(server), .opened).error)
        #expect(limited.retryable && limited.retryAfter == .seconds(7) && limited.code == "telegram.rate", "\(limited)")
        let lost = try #require(await post(try telegram(server, chat: "@nowhere_chat"), .opened).error)
        #expect(!lost.retryable && lost.message.contains("chat not found") && lost.message.contains("@nowhere_chat"), "\(lost)")
        let wrong = try #require(await post(try telegram(server, token: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsXX"), .opened).error)
        #expect(!wrong.retryable && wrong.code == "telegram.auth", "\(wrong)")
        #expect(!wrong.message.contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsXX") && !lost.message.contains(Self.botToken))
    }

    // MARK: Mastodon

    func mastodon(_ server: LocalServer, token: String = "masto-token-canary") throws -> MastodonPoster {
        try MastodonPoster(settings: .init(instance: "http://127.0.0.1:\(server.port)", accessToken: Secret(token, origin: "env:M"),
                                           visibility: "public", language: "en"),
                           templates: TemplateRefs(), network: network, client: client, logger: webhookTestLogger)
    }

    @Test func mastodonPostsOncePerIdempotencyKeyAndThreadsTheAllClear() async throws {
        let (server, file) = try standIn("mastodon_server.py", ["access_token": "masto-token-canary"])
        let poster = try mastodon(server)
        let opened = try await post(poster, .opened, id: "detour-k-7-1-1").get()
        // The same delivery again (a retry after a crash): Mastodon hands back the same status.
        let again = try await post(poster, .opened, id: "detour-k-7-1-1").get()
        #expect(opened.reply.hasPrefix("mastodon status ") && again.reply == opened.reply, "\(opened.reply) / \(again.reply)")
        let resolved = try await post(poster, .resolved, id: "detour-k-7-2-2", replyTo: opened.reply).get()
        let sent = requests(file)
        #expect(sent.count == 3)
        #expect((sent[0]["headers"] as? [String: String])?["idempotency-key"] == "detour-k-7-1-1")
        #expect((sent[0]["headers"] as? [String: String])?["authorization"] == "Bearer masto-token-canary")
        let statusID = try #require(MastodonPoster.statusID(opened.reply))
        #expect((sent[2]["body"] as? [String: Any])?["in_reply_to_id"] as? String == statusID)
        #expect(resolved.reply != opened.reply)
    }

    @Test func mastodonsErrorsAreItsOwn() async throws {
        let (server, file) = try standIn("mastodon_server.py", ["access_token": "masto-token-canary", "rate_limited": 1, "reset_after": 4])
        let limited = try #require(await post(try mastodon(server), .opened).error)
        #expect(limited.retryable && limited.code == "mastodon.rate", "\(limited)")
        let wait = try #require(limited.retryAfter)
        #expect(wait >= .seconds(2) && wait <= .seconds(5), "X-RateLimit-Reset is about 4 s away: \(wait)")
        let bad = try #require(await post(try mastodon(server, token: "wrong"), .opened).error)
        #expect(!bad.retryable && bad.message.contains("access token is invalid"), "\(bad)")
        try rewrite(file, ["access_token": "masto-token-canary", "max_characters": 100])
        let long = try #require(await post(try mastodon(server), .opened).error)
        #expect(!long.retryable && long.code == "mastodon.invalid" && long.message.contains("character limit"), "\(long)")
        #expect(!long.message.contains("masto-token-canary"))
    }

    @Test func anAllClearWhoseOutagePostWasDeletedIsPostedOnItsOwn() async throws {
        let (server, file) = try standIn("mastodon_server.py", ["access_token": "masto-token-canary", "deleted": ["110000000000000002"]])
        let receipt = try await post(try mastodon(server), .resolved, replyTo: "mastodon status 110000000000000002 https://x/1").get()
        #expect(receipt.reply.hasPrefix("mastodon status "))
        let sent = requests(file)
        #expect(sent.map { $0["status"] as? Int } == [404, 200], "\(sent)")
        #expect((sent.last?["body"] as? [String: Any])?["in_reply_to_id"] == nil)
    }

    // MARK: Bluesky

    static let did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"

    func bluesky(_ server: LocalServer, password: String = "abcd-efgh-ijkl-mnop") throws -> BlueskyPoster {
        try BlueskyPoster(settings: .init(service: "http://127.0.0.1:\(server.port)", handle: "rosies.bsky.social",
                                          appPassword: Secret(password, origin: "env:B"), language: "en"),
                          templates: TemplateRefs(), network: network, client: client, logger: webhookTestLogger)
    }

    @Test func blueskyPostsWithLinkFacetsRenewsAnExpiredSessionAndThreadsTheAllClear() async throws {
        let (server, file) = try standIn("bluesky_server.py", ["handle": "rosies.bsky.social", "did": Self.did,
                                                               "app_password": "abcd-efgh-ijkl-mnop", "expire_after": 1])
        let poster = try bluesky(server)
        let opened = try await post(poster, .opened).get()
        #expect(opened.reply.hasPrefix("bluesky at://\(Self.did)/app.bsky.feed.post/"), "\(opened.reply)")
        // The access token has had its one use: the next post meets ExpiredToken, refreshes, and goes.
        let resolved = try await post(poster, .resolved, replyTo: opened.reply).get()
        let sent = requests(file)
        let paths = sent.compactMap { ($0["path"] as? String)?.replacingOccurrences(of: "/xrpc/", with: "") }
        #expect(paths == ["com.atproto.server.createSession", "com.atproto.repo.createRecord", "com.atproto.repo.createRecord",
                          "com.atproto.server.refreshSession", "com.atproto.repo.createRecord"], "\(paths)")
        #expect(sent[2]["status"] as? Int == 400 && sent[4]["status"] as? Int == 200)
        let record = try #require((sent[1]["body"] as? [String: Any])?["record"] as? [String: Any])
        let text = try #require(record["text"] as? String)
        let facet = try #require((record["facets"] as? [[String: Any]])?.first)
        let index = try #require(facet["index"] as? [String: Int])
        let bytes = Array(text.utf8)[index["byteStart"]!..<index["byteEnd"]!]
        #expect(String(decoding: bytes, as: UTF8.self) == "https://rosies.example/book?via=detour", "byte offsets, after the — dash")
        let reply = try #require(((sent[4]["body"] as? [String: Any])?["record"] as? [String: Any])?["reply"] as? [String: Any])
        #expect((reply["root"] as? [String: String])?["uri"] == BlueskyPoster.post(opened.reply)?.0)
        #expect(resolved.reply != opened.reply)
    }

    @Test func aWrongAppPasswordIsPermanentAndNeverShown() async throws {
        let (server, _) = try standIn("bluesky_server.py", ["handle": "rosies.bsky.social", "did": Self.did, "app_password": "abcd-efgh-ijkl-mnop"])
        let error = try #require(await post(try bluesky(server, password: "wxyz-wxyz-wxyz-wxyz"), .opened).error)
        #expect(!error.retryable && error.message.contains("Invalid identifier or password") && !error.message.contains("wxyz-wxyz"), "\(error)")
    }

    // MARK: Google Business Profile

    func google(_ server: LocalServer, refresh: String = "1//0gAbC") throws -> GoogleBusinessPoster {
        let base = "http://127.0.0.1:\(server.port)"
        return try GoogleBusinessPoster(settings: .init(baseURL: base, tokenURL: "\(base)/token", accountID: "1234567890", locationID: "9876543210",
                                                        clientID: "1234-abc.apps.googleusercontent.com", clientSecret: Secret("GOCSPX-secret", origin: "env:S"),
                                                        refreshToken: Secret(refresh, origin: "env:R"), language: "en",
                                                        actionType: "LEARN_MORE", actionURL: "https://rosies.example/book"),
                                        templates: TemplateRefs(), network: network, client: client, logger: webhookTestLogger)
    }

    @Test func googlePostsALocalPostWithAButtonAndRenewsItsAccessToken() async throws {
        let (server, file) = try standIn("google_server.py", ["client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-secret",
                                                              "refresh_token": "1//0gAbC", "expire_tokens_after": 1,
                                                              "accounts": ["1234567890": ["9876543210"]]])
        let poster = try google(server)
        let opened = try await post(poster, .opened).get()
        #expect(opened.reply.hasPrefix("google accounts/1234567890/locations/9876543210/localPosts/"), "\(opened.reply)")
        _ = try await post(poster, .resolved).get()
        let sent = requests(file)
        let paths = sent.compactMap { $0["path"] as? String }
        #expect(paths.filter { $0 == "/token" }.count == 2, "a used-up token is renewed once: \(paths)")
        let body = try #require(sent.first { ($0["path"] as? String)?.hasSuffix("/localPosts") == true }?["body"] as? [String: Any])
        #expect(body["topicType"] as? String == "STANDARD" && body["languageCode"] as? String == "en")
        #expect((body["callToAction"] as? [String: String]) == ["actionType": "LEARN_MORE", "url": "https://rosies.example/book"])
    }

    @Test func aRevokedRefreshTokenIsPermanentAndSaysWhatToDo() async throws {
        let (server, _) = try standIn("google_server.py", ["client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-secret",
                                                           "refresh_token": "1//0gAbC", "revoked": ["1//0gOld"], "accounts": ["1234567890": ["9876543210"]]])
        let error = try #require(await post(try google(server, refresh: "1//0gOld"), .opened).error)
        #expect(!error.retryable && error.message.contains("invalid_grant") && error.message.contains("renew the refresh token"), "\(error)")
        #expect(!error.message.contains("1//0gOld") && !error.message.contains("GOCSPX-secret"))
    }

    @Test func lengthsAreCountedAsEachPlatformCounts() {
        let link = "https://example.com/" + String(repeating: "a", count: 100)
        #expect(SocialText.length("see \(link).", for: .mastodon) == 4 + 23 + 1)
        #expect(SocialText.length("👍🏽 ok", for: .bluesky) == 4 && SocialText.length("👍🏽 ok", for: .telegram) == 7)
        #expect(SocialText.links(in: "(see https://a.example/x), or http://b.example.") .count == 2)
    }
}

