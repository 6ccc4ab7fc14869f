import Foundation
import Testing
import TestKit

/// The real `detour run` posting a salon's outage notice on its Telegram channel and its Mastodon
/// account, through stand-ins that check requests as those APIs do, and the all-clear as a reply to
/// each post, so followers read one thread; the posts show in `detour deliveries` and `/metrics`,
/// and no token reaches the log.
@Suite(.serialized) struct SocialDaemonTests {
    static let botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

    func log(_ file: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: file + ".log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    func posts(_ file: String) -> [[String: Any]] {
        log(file).filter { $0["status"] as? Int == 200 }.compactMap { $0["body"] as? [String: Any] }
    }

    @Test func theOutagePostAndTheAllClearAsItsReplyOnTelegramAndMastodon() throws {
        let standIns = try TempDir("social-daemon")
        let telegramConfig = standIns.file("telegram.json"), mastodonConfig = standIns.file("mastodon.json")
        try JSONSerialization.data(withJSONObject: ["bot_token": Self.botToken, "chats": ["@rosies_salon"], "rate_limited": 1, "retry_after": 1])
            .write(to: URL(fileURLWithPath: telegramConfig))
        try JSONSerialization.data(withJSONObject: ["access_token": "masto-token-canary-3b"]).write(to: URL(fileURLWithPath: mastodonConfig))
        let telegram = try LocalServer(script: "telegram_server.py", arguments: [telegramConfig])
        let mastodon = try LocalServer(script: "mastodon_server.py", arguments: [mastodonConfig])
        var options = DaemonHarness.Options()
        options.extraChannels = """
          telegram:
            bot_token: env:TELEGRAM_TOKEN
            chat_id: "@rosies_salon"
            base_url: http://127.0.0.1:\(telegram.port)
          mastodon:
            instance: http://127.0.0.1:\(mastodon.port)
            access_token: env:MASTODON_TOKEN
        """
        let h = try DaemonHarness(options)
        try h.start(environment: ["TELEGRAM_TOKEN": Self.botToken, "MASTODON_TOKEN": "masto-token-canary-3b"])
        defer { h.stop() }

        try h.platformDown()
        // Telegram's first answer is a 429 with retry_after 1: the post goes a second later.
        #expect(h.wait(30) { posts(telegramConfig).count == 1 && posts(mastodonConfig).count == 1 }, "log:\n\(h.log().suffix(3000))")
        let notice = try #require(posts(telegramConfig).first?["text"] as? String)
        #expect(notice.hasPrefix("Corner Shop: Acme Social is not working"), "\(notice)")
        #expect(log(telegramConfig).first?["status"] as? Int == 429)
        let delivered = try h.cli(["deliveries", "--channel", "telegram", "--json"])
        #expect(delivered.stdout.contains("telegram message 1 in @rosies_salon"), "\(delivered.stdout)")
        let first = try #require(log(mastodonConfig).first { $0["status"] as? Int == 200 })
        let statusID = try #require(first["id"] as? String)

        try h.platformUp()
        #expect(h.wait(30) { posts(telegramConfig).count == 2 && posts(mastodonConfig).count == 2 }, "log:\n\(h.log().suffix(3000))")
        let reply = try #require(posts(telegramConfig).last)
        #expect((reply["reply_parameters"] as? [String: Any])?["message_id"] as? Int == 1, "the all-clear answers the notice: \(reply)")
        #expect((reply["text"] as? String)?.contains("is working again") == true)
        #expect(posts(mastodonConfig).last?["in_reply_to_id"] as? String == statusID)
        let metrics = try PlainHTTP.get(port: h.httpPort, path: "/metrics")
        let text = String(decoding: metrics.body, as: UTF8.self)
        #expect(text.contains("channel=\"telegram\"") && text.contains("channel=\"mastodon\""))
        let everything = h.log() + text + (try h.cli(["status", "--json"])).stdout
        #expect(!everything.contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") && !everything.contains("masto-token-canary"), "no token anywhere")
        withExtendedLifetime((telegram, mastodon)) {}
    }
}
