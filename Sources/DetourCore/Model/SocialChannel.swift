import Foundation

/// A public post on one of the business's own social accounts: the outage notice when an incident
/// opens and the all-clear as a reply to it, so followers read one thread.
public struct SocialChannel: Sendable, Hashable, Codable {
    public var account: SocialAccount
    public var templates: TemplateRefs
    public init(account: SocialAccount, templates: TemplateRefs) { self.account = account; self.templates = templates }

    public var kind: ChannelKind { account.kind }
}

/// Where a social channel posts, and with which credentials.
public enum SocialAccount: Sendable, Hashable, Codable {
    case telegram(Telegram)
    case mastodon(Mastodon)
    case bluesky(Bluesky)
    case googleBusiness(GoogleBusiness)

    public var kind: ChannelKind {
        switch self {
        case .telegram: .telegram
        case .mastodon: .mastodon
        case .bluesky: .bluesky
        case .googleBusiness: .googleBusiness
        }
    }

    /// How long one post may be, in the platform's own unit.
    public var limit: Int {
        switch self {
        case .telegram: 4096
        case .mastodon: 500
        case .bluesky: 300
        case .googleBusiness: 1500
        }
    }

    /// A bot posting to a channel or group through the Bot API.
    public struct Telegram: Sendable, Hashable, Codable {
        public var baseURL: String
        public var botToken: Secret
        /// `@channelusername` or a numeric chat id.
        public var chatID: String
        public init(baseURL: String, botToken: Secret, chatID: String) { self.baseURL = baseURL; self.botToken = botToken; self.chatID = chatID }
    }

    public struct Mastodon: Sendable, Hashable, Codable {
        public var instance: String
        public var accessToken: Secret
        public var visibility: String
        public var language: String?
        public init(instance: String, accessToken: Secret, visibility: String, language: String?) {
            self.instance = instance; self.accessToken = accessToken; self.visibility = visibility; self.language = language
        }
    }

    public struct Bluesky: Sendable, Hashable, Codable {
        public var service: String
        public var handle: String
        public var appPassword: Secret
        public var language: String?
        public init(service: String, handle: String, appPassword: Secret, language: String?) {
            self.service = service; self.handle = handle; self.appPassword = appPassword; self.language = language
        }
    }

    /// A Google Business Profile location, posted to with an OAuth 2.0 refresh token.
    public struct GoogleBusiness: Sendable, Hashable, Codable {
        public var baseURL: String
        public var tokenURL: String
        public var accountID: String
        public var locationID: String
        public var clientID: String
        public var clientSecret: Secret
        public var refreshToken: Secret
        public var language: String
        /// `LEARN_MORE`, `BOOK`, `ORDER`, `SHOP`, `SIGN_UP` or `CALL`; nil posts without a button.
        public var actionType: String?
        public var actionURL: String?
        public init(baseURL: String, tokenURL: String, accountID: String, locationID: String, clientID: String, clientSecret: Secret,
                    refreshToken: Secret, language: String, actionType: String?, actionURL: String?) {
            self.baseURL = baseURL; self.tokenURL = tokenURL; self.accountID = accountID; self.locationID = locationID
            self.clientID = clientID; self.clientSecret = clientSecret; self.refreshToken = refreshToken; self.language = language
            self.actionType = actionType; self.actionURL = actionURL
        }
    }
}

/// A rate a provider takes messages at: `10/s`, `100/m`.
public struct SendRate: Sendable, Hashable, Codable, CustomStringConvertible {
    public var count: Int
    public var per: TimeSpan
    public init(count: Int, per: TimeSpan) { self.count = count; self.per = per }
    /// The time between two sends.
    public var interval: Double { Double(per.milliseconds) / 1000 / Double(count) }
    public var description: String { "\(count)/\(per.milliseconds == 60_000 ? "m" : per.milliseconds == 3_600_000 ? "h" : "s")" }

    /// `10/s`, `100/m`, `1000/h`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let n = Int(parts[0].trimmingCharacters(in: .whitespaces)), n > 0 else { return nil }
        switch parts[1].trimmingCharacters(in: .whitespaces) {
        case "s", "sec", "second": per = .seconds(1)
        case "m", "min", "minute": per = .seconds(60)
        case "h", "hour": per = .seconds(3600)
        default: return nil
        }
        count = n
    }
}

/// The hours when texts wait, `22:00-08:00`, in a time zone. The end is exclusive; a span may cross midnight.
public struct QuietHours: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Minutes after midnight.
    public var start: Int
    public var end: Int
    public var timeZone: String

    public init(start: Int, end: Int, timeZone: String) { self.start = start; self.end = end; self.timeZone = timeZone }

    /// `22:00-08:00` in `timeZone`; nil when it does not read as two times.
    public init?(_ text: String, timeZone: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let a = Self.minutes(parts[0]), let b = Self.minutes(parts[1]), a != b else { return nil }
        start = a; end = b; self.timeZone = timeZone
    }

    static func minutes(_ s: Substring) -> Int? {
        let hm = s.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard hm.count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0..<60).contains(m),
              h * 60 + m <= 24 * 60 else { return nil }
        return h * 60 + m
    }

    public var description: String { "\(span) \(timeZone)" }
    /// `22:00-08:00`.
    public var span: String { "\(Self.clock(start))-\(Self.clock(end))" }
    static func clock(_ m: Int) -> String { String(format: "%02d:%02d", m / 60, m % 60) }

    private var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: timeZone) ?? .current
        return c
    }

    private func contains(minute m: Int) -> Bool {
        start < end ? (m >= start && m < end) : (m >= start || m < end)
    }

    /// When the quiet hours that `date` falls in end; nil when `date` is outside them.
    public func end(after date: Date) -> Date? {
        let cal = calendar
        let parts = cal.dateComponents([.hour, .minute], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        guard contains(minute: minute) else { return nil }
        let day = cal.startOfDay(for: date)
        var target = cal.date(bySettingHour: end / 60 % 24, minute: end % 60, second: 0, of: day) ?? date
        if end == 24 * 60 { target = cal.date(byAdding: .day, value: 1, to: day) ?? date }
        if target <= date { target = cal.date(byAdding: .day, value: 1, to: target) ?? date }
        return target
    }
}
