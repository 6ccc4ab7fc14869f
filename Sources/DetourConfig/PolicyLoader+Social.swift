import DetourCore
import Foundation

// MARK: `channels.telegram`, `channels.mastodon`, `channels.bluesky`, `channels.google_business`

extension PolicyLoader {
    /// One social account: its credentials (secrets in the usual forms), where its API is, and the templates.
    func socialChannel(_ kind: ChannelKind, _ node: YNode, _ secrets: SecretReader, _ dir: String, contacts: [ContactLink]) -> SocialChannel? {
        guard let m = node.mapping() else { return nil }
        var account: SocialAccount?
        switch kind {
        case .telegram: account = telegram(m, secrets)
        case .mastodon: account = mastodon(m, secrets)
        case .bluesky: account = bluesky(m, secrets)
        case .googleBusiness: account = google(m, secrets, contacts: contacts)
        default: break
        }
        let refs = templates(m, dir)
        m.finish()
        return account.map { SocialChannel(account: $0, templates: refs) }
    }

    /// A required secret: `key`, or `key_file`.
    private func requiredSecret(_ m: MappingReader, _ secrets: SecretReader, _ key: String, what: String, example: String) -> Secret? {
        let value = secrets.read(m, key, inlineWarning: "the \(what) is written inline")
        if value == nil, m.optional(key) == nil, m.optional("\(key)_file") == nil {
            m.node.error("needs \(key) or \(key)_file (the \(what))", hint: "\(key): \(example)")
        }
        return value
    }

    private func telegram(_ m: MappingReader, _ secrets: SecretReader) -> SocialAccount? {
        let token = requiredSecret(m, secrets, "bot_token", what: "bot token from @BotFather", example: "env:TELEGRAM_BOT_TOKEN")
        if let t = token?.reveal(), !Self.isBotToken(t) {
            (m.optional("bot_token") ?? m.optional("bot_token_file"))?.error("this is not a Telegram bot token", hint: "@BotFather gives one like 123456789:AA… (digits, a colon, then 35 letters, digits, - or _)")
        }
        var chat: String?
        if let v = m.required("chat_id", hint: "chat_id: \"@yourchannel\" (or a numeric id such as -1001234567890)"), let s = v.singleLine() {
            let username = s.hasPrefix("@") && s.count >= 6 && s.count <= 33 && s.dropFirst().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            if username || Int64(s) != nil { chat = s } else {
                v.error("chat_id '\(s.prefix(40))' is neither @channelusername nor a numeric chat id", hint: "a public channel: \"@yourchannel\"; a group or private channel: its id, e.g. -1001234567890")
            }
        }
        let base = baseURL(m, default: "https://api.telegram.org", what: "Telegram API")
        guard let token, let chat, Self.isBotToken(token.reveal()) else { return nil }
        return .telegram(.init(baseURL: base, botToken: token, chatID: chat))
    }

    static func isBotToken(_ t: String) -> Bool {
        let parts = t.split(separator: ":", maxSplits: 1)
        return parts.count == 2 && !parts[0].isEmpty && parts[0].allSatisfy(\.isASCII) && parts[0].allSatisfy(\.isNumber)
            && parts[1].count >= 30 && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    private func mastodon(_ m: MappingReader, _ secrets: SecretReader) -> SocialAccount? {
        var instance: String?
        if let v = m.required("instance", hint: "instance: https://mastodon.social (where the account lives)"), v.singleLine() != nil {
            instance = baseURL(m, "instance", default: "", what: "Mastodon instance")
            if instance == "" { instance = nil }
        }
        let token = requiredSecret(m, secrets, "access_token", what: "access token (Preferences → Development, scope write:statuses)", example: "env:MASTODON_TOKEN")
        var visibility = "public"
        if let v = m.optional("visibility"), let s = v.singleLine() {
            if ["public", "unlisted"].contains(s) { visibility = s } else {
                v.error("visibility '\(s.prefix(20))' must be public or unlisted", hint: "a notice for customers is public; unlisted keeps it off public timelines")
            }
        }
        let language = languageCode(m)
        guard let instance, let token else { return nil }
        return .mastodon(.init(instance: instance, accessToken: token, visibility: visibility, language: language))
    }

    private func bluesky(_ m: MappingReader, _ secrets: SecretReader) -> SocialAccount? {
        var handle: String?
        if let v = m.required("handle", hint: "handle: yourname.bsky.social"), let s = v.singleLine() {
            let h = s.hasPrefix("@") ? String(s.dropFirst()) : s
            if h.hasPrefix("did:") || (h.contains(".") && h.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) { handle = h } else {
                v.error("handle '\(s.prefix(60))' is not a Bluesky handle", hint: "like yourname.bsky.social, or your own domain")
            }
        }
        let password = requiredSecret(m, secrets, "app_password", what: "Bluesky app password (Settings → Privacy and security → App passwords)",
                                      example: "env:BLUESKY_APP_PASSWORD")
        let service = baseURL(m, "service", default: "https://bsky.social", what: "Bluesky service")
        let language = languageCode(m)
        guard let handle, let password else { return nil }
        return .bluesky(.init(service: service, handle: handle, appPassword: password, language: language))
    }

    static let actionTypes = ["LEARN_MORE", "BOOK", "ORDER", "SHOP", "SIGN_UP", "CALL"]

    private func google(_ m: MappingReader, _ secrets: SecretReader, contacts: [ContactLink]) -> SocialAccount? {
        func digits(_ key: String, _ hint: String) -> String? {
            guard let v = m.required(key, hint: hint), let s = v.singleLine() else { return nil }
            if !s.isEmpty, s.count <= 30, s.allSatisfy({ $0.isASCII && $0.isNumber }) { return s }
            v.error("\(key) '\(s.prefix(40))' is not a number", hint: hint)
            return nil
        }
        let account = digits("account_id", "account_id: 123456789012345678901 (the digits after accounts/)")
        let location = digits("location_id", "location_id: 9876543210987654321 (the digits after locations/)")
        let clientID = m.required("client_id", hint: "client_id: the OAuth client's id (….apps.googleusercontent.com)")?.singleLine()
        let clientSecret = requiredSecret(m, secrets, "client_secret", what: "OAuth client secret", example: "env:GOOGLE_CLIENT_SECRET")
        let refresh = requiredSecret(m, secrets, "refresh_token", what: "OAuth refresh token (scope business.manage)", example: "credential:google-refresh-token")
        let tokenURL = baseURL(m, "token_url", default: "https://oauth2.googleapis.com/token", what: "OAuth token endpoint")
        let base = baseURL(m, default: "https://mybusiness.googleapis.com", what: "Google Business Profile API")
        var language = "en"
        if let l = languageCode(m) { language = l }
        var actionType: String? = contacts.contains { $0.url.hasPrefix("https://") } ? "LEARN_MORE" : nil
        var actionURL = contacts.first { $0.url.hasPrefix("https://") }?.url
        if let v = m.optional("call_to_action"), case .scalar = v.node {
            if v.string() == "none" { actionType = nil; actionURL = nil } else {
                v.error("call_to_action is none or a mapping", hint: "call_to_action: none, or action_type: and url: under it")
            }
        } else if let cm = m.optional("call_to_action")?.mapping() {
            actionType = cm.required("action_type", hint: "action_type: \(Self.actionTypes.joined(separator: ", "))")?.singleLine()
            if let a = actionType, !Self.actionTypes.contains(a) {
                cm.optional("action_type")?.error("action_type '\(a.prefix(20))' is not one Google takes", hint: Self.actionTypes.joined(separator: ", "))
            }
            actionURL = nil
            if let v = cm.optional("url"), let s = v.singleLine() {
                if actionType == "CALL" { v.error("a CALL button takes no url", hint: "Google calls the phone number on the profile") }
                else if !s.hasPrefix("https://") && !s.hasPrefix("http://") { v.error("url '\(s.prefix(60))' is not a web address", hint: "https://…") }
                else { actionURL = s }
            } else if let a = actionType, a != "CALL" {
                cm.node.error("a \(a) button needs a url", hint: "url: https://rosies.example/book")
            }
            cm.finish()
        }
        guard let account, let location, let clientID, let clientSecret, let refresh else { return nil }
        return .googleBusiness(.init(baseURL: base, tokenURL: tokenURL, accountID: account, locationID: location, clientID: clientID,
                                     clientSecret: clientSecret, refreshToken: refresh, language: language,
                                     actionType: actionType, actionURL: actionURL))
    }

    /// `language: en` (ISO 639-1, two or three letters).
    private func languageCode(_ m: MappingReader) -> String? {
        guard let v = m.optional("language"), let s = v.singleLine() else { return nil }
        if (2...3).contains(s.count), s.allSatisfy({ $0.isASCII && $0.isLowercase }) { return s }
        v.error("language '\(s.prefix(20))' is not an ISO 639 code", hint: "e.g. en, de, es")
        return nil
    }
}
