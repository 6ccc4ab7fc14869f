/// One business's fallback policy: what it depends on, when to fail over, whom to tell and how.
public struct Policy: Sendable, Codable {
    public var business: BusinessID
    public var displayName: String
    public var dependsOn: [PlatformID]
    public var failWhen: FailWhen
    /// How long the platforms must be down before customers hear anything.
    public var grace: TimeSpan
    /// How long the platforms must be operational before the all-clear.
    public var recoveryGrace: TimeSpan
    /// A platform that fails again within this time after recovery continues the same incident.
    public var cooldown: TimeSpan
    public var message: Messages
    public var contacts: [ContactLink]
    public var email: EmailChannel?
    public var banner: BannerChannel?
    public var webhooks: [WebhookChannel]
    public var sms: SMSChannel?
    /// Public posts on the business's other social accounts (Telegram, Mastodon, Bluesky, Google).
    public var social: [SocialChannel]
    /// The business's time zone (IANA name), for quiet hours; nil is the machine's.
    public var timeZone: String?
    /// The webhook (by name) that also gets operator alerts about this business's platforms, such as
    /// a probe's access token refused: for its staff, never its customers.
    public var staffWebhook: String?
    public var recovery: RecoveryPlan
    public var source: PolicySource

    public init(business: BusinessID, displayName: String, dependsOn: [PlatformID], failWhen: FailWhen, grace: TimeSpan,
                recoveryGrace: TimeSpan, cooldown: TimeSpan, message: Messages, contacts: [ContactLink],
                email: EmailChannel?, banner: BannerChannel?, webhooks: [WebhookChannel], sms: SMSChannel? = nil,
                social: [SocialChannel] = [], timeZone: String? = nil, recovery: RecoveryPlan, source: PolicySource) {
        self.business = business; self.displayName = displayName; self.dependsOn = dependsOn; self.failWhen = failWhen
        self.grace = grace; self.recoveryGrace = recoveryGrace; self.cooldown = cooldown; self.message = message
        self.contacts = contacts; self.email = email; self.banner = banner; self.webhooks = webhooks; self.sms = sms
        self.social = social; self.timeZone = timeZone
        self.recovery = recovery; self.source = source
    }
}

/// Whether one failing platform is enough, or all of them must fail.
public enum FailWhen: String, Sendable, Hashable, Codable, CaseIterable {
    case any, all
}

/// What customers are told when the outage starts and when it ends.
public struct Messages: Sendable, Hashable, Codable {
    public var outage: String
    /// The all-clear text; nil lets each channel's default template say it.
    public var recovery: String?
    public init(outage: String, recovery: String?) { self.outage = outage; self.recovery = recovery }
}

/// A way to reach the business that customers are pointed to: "Call us" → `tel:+44…`.
public struct ContactLink: Sendable, Hashable, Codable {
    public var label: String
    public var url: String
    public init(label: String, url: String) { self.label = label; self.url = url }
}

/// The channels that can carry a message.
public enum ChannelKind: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case email, banner, webhook, sms
    case telegram, mastodon, bluesky
    case googleBusiness = "google_business"
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The channels that post once per event on a social account.
    public static let social: [ChannelKind] = [.telegram, .mastodon, .bluesky, .googleBusiness]
    public var isSocial: Bool { Self.social.contains(self) }
}

/// Per-channel template files a policy may bring; nil uses the built-in default.
public struct TemplateRefs: Sendable, Hashable, Codable {
    public var opened: String?
    public var resolved: String?
    public init(opened: String? = nil, resolved: String? = nil) { self.opened = opened; self.resolved = resolved }
}

/// An email address with an optional display name: `Rosie's Bakery <hello@rosies.example>`.
public struct Mailbox: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String?
    public var address: String
    public init(name: String?, address: String) { self.name = name; self.address = address }
    public var description: String { name.map { "\($0) <\(address)>" } ?? address }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

public struct EmailChannel: Sendable, Codable {
    /// Name of an SMTP server in `detour.yaml`.
    public var smtp: String
    public var from: Mailbox
    public var replyTo: Mailbox?
    public var audience: Audience
    public var templates: TemplateRefs
    /// At most this many emails to one customer per incident.
    public var maxPerCustomer: Int
    public init(smtp: String, from: Mailbox, replyTo: Mailbox?, audience: Audience, templates: TemplateRefs, maxPerCustomer: Int) {
        self.smtp = smtp; self.from = from; self.replyTo = replyTo; self.audience = audience
        self.templates = templates; self.maxPerCustomer = maxPerCustomer
    }
}

/// Text messages to the customers' phones, through an SMS provider.
public struct SMSChannel: Sendable, Codable {
    public var provider: SMSProvider
    /// The audience; its rows with a phone number (and no opt-out) get texts.
    public var audience: Audience
    public var templates: TemplateRefs
    /// At most this many texts to one number per incident.
    public var maxPerCustomer: Int
    /// A file of numbers that replied STOP, one a line, read again whenever it changes.
    public var stopFile: String?
    /// At most this many texts to the provider per second; nil is as fast as `delivery.concurrency.sms` allows.
    public var rate: SendRate?
    /// Hours when outage texts wait, in the policy's time zone.
    public var quietHours: QuietHours?
    public init(provider: SMSProvider, audience: Audience, templates: TemplateRefs, maxPerCustomer: Int, stopFile: String?,
                rate: SendRate? = nil, quietHours: QuietHours? = nil) {
        self.provider = provider; self.audience = audience; self.templates = templates
        self.maxPerCustomer = maxPerCustomer; self.stopFile = stopFile; self.rate = rate; self.quietHours = quietHours
    }
}

/// Where texts are sent, and how.
public enum SMSProvider: Sendable, Hashable, Codable {
    /// Twilio's Messages API.
    case twilio(Twilio)
    /// Vonage's SMS API.
    case vonage(Vonage)
    /// Any gateway: a request shaped by the business.
    case http(HTTPGateway)

    public struct Vonage: Sendable, Hashable, Codable {
        public var baseURL: String
        public var apiKey: String
        public var apiSecret: Secret
        /// An E.164 number or an alphanumeric sender ID.
        public var from: String
        public init(baseURL: String, apiKey: String, apiSecret: Secret, from: String) {
            self.baseURL = baseURL; self.apiKey = apiKey; self.apiSecret = apiSecret; self.from = from
        }
    }

    public struct HTTPGateway: Sendable, Hashable, Codable {
        /// The gateway's URL; a secret, as some carry their key in the query.
        public var url: Secret
        public var request: WebhookChannel.CustomRequest
        public init(url: Secret, request: WebhookChannel.CustomRequest) { self.url = url; self.request = request }
    }

    public struct Twilio: Sendable, Hashable, Codable {
        public var baseURL: String
        public var accountSID: String
        public var authToken: Secret
        /// The sender: an E.164 number or an alphanumeric sender ID; nil with a messaging service.
        public var from: String?
        public var messagingServiceSID: String?
        public init(baseURL: String, accountSID: String, authToken: Secret, from: String?, messagingServiceSID: String?) {
            self.baseURL = baseURL; self.accountSID = accountSID; self.authToken = authToken; self.from = from
            self.messagingServiceSID = messagingServiceSID
        }
    }

    public var name: String {
        switch self { case .twilio: "twilio"; case .vonage: "vonage"; case .http: "http" }
    }
}

public struct BannerChannel: Sendable, Hashable, Codable {
    /// Directory on the business's website where banner.json, banner.html and banner.js are published.
    public var publishDir: String
    /// Banner text; nil uses the policy's outage message.
    public var message: String?
    /// Links shown on the banner; nil uses the policy's contacts.
    public var links: [ContactLink]?
    public var templates: TemplateRefs
    public init(publishDir: String, message: String?, links: [ContactLink]?, templates: TemplateRefs) {
        self.publishDir = publishDir; self.message = message; self.links = links; self.templates = templates
    }
}

public struct WebhookChannel: Sendable, Hashable, Codable {
    public enum Format: String, Sendable, Hashable, Codable, CaseIterable {
        case standard, slack, teams, discord, json, custom
    }
    public var name: String
    public var format: Format
    /// The target URL. It is a secret: Slack, Teams and Discord URLs carry their token in the path.
    public var url: Secret
    /// Signing secret (`whsec_…`) for the `standard` format; optional for `custom`.
    public var secret: Secret?
    public var templates: TemplateRefs
    /// The request a `custom` webhook sends; nil for the other formats.
    public var custom: CustomRequest?
    public init(name: String, format: Format, url: Secret, secret: Secret?, templates: TemplateRefs, custom: CustomRequest? = nil) {
        self.name = name; self.format = format; self.url = url; self.secret = secret; self.templates = templates; self.custom = custom
    }

    /// A request shaped by the business for its CRM, booking system or gateway: the method, headers
    /// (values may be secrets; none is ever printed) and a Mustache body with its content type.
    public struct CustomRequest: Sendable, Hashable, Codable {
        public var method: String
        public var headers: [Header]
        /// The body template's path; nil sends the `json` format's body.
        public var body: String?
        public var contentType: String

        public struct Header: Sendable, Hashable, Codable {
            public var name: String
            public var value: Secret
            public init(name: String, value: Secret) { self.name = name; self.value = value }
        }

        public init(method: String = "POST", headers: [Header] = [], body: String? = nil, contentType: String = "application/json") {
            self.method = method; self.headers = headers; self.body = body; self.contentType = contentType
        }
    }
}

/// What happens when the platforms are back.
public struct RecoveryPlan: Sendable, Hashable, Codable {
    /// Channels that send the all-clear. The banner is always taken down.
    public var allClear: Set<ChannelKind>
    public init(allClear: Set<ChannelKind>) { self.allClear = allClear }
}

/// Which file and which version of it a policy was read from.
public struct PolicySource: Sendable, Hashable, Codable {
    public var file: String
    /// SHA-256 of the file's bytes, hex.
    public var contentHash: String
    public init(file: String, contentHash: String) { self.file = file; self.contentHash = contentHash }
}
