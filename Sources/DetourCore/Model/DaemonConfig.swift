/// Everything in `detour.yaml`, validated, with defaults applied and secrets resolved.
public struct DaemonConfig: Sendable, Codable {
    /// The file this came from.
    public var file: String
    /// Where the state is kept: an SQLite file's path, or a `postgres://` URL (without a password).
    public var statePath: String
    /// The PostgreSQL password, when `state` is a URL that needs one.
    public var statePassword: Secret?
    /// This daemon as a node of a cluster (several daemons on one PostgreSQL database).
    public var node = NodeSettings()
    /// Directory holding one policy file per business.
    public var policiesDir: String
    public var http: HTTPListener
    public var control: ControlSocket
    public var smtp: [String: SMTPServer]
    /// Defaults for every platform.
    public var health: HealthSettings
    /// Probes of things that are not platforms; when they fail too, statuses are unknown.
    public var controls: [ProbeSpec]
    /// Built-in platforms (with overrides) and custom ones, by id.
    public var platforms: [PlatformID: PlatformSpec]
    public var webhooks: WebhookNetwork
    /// How the delivery workers retry and how many messages they send at once.
    public var delivery: DeliverySettings

    public init(file: String, statePath: String, policiesDir: String, http: HTTPListener, control: ControlSocket,
                smtp: [String: SMTPServer], health: HealthSettings, controls: [ProbeSpec],
                platforms: [PlatformID: PlatformSpec], webhooks: WebhookNetwork, delivery: DeliverySettings = DeliverySettings()) {
        self.file = file; self.statePath = statePath; self.policiesDir = policiesDir; self.http = http
        self.control = control; self.smtp = smtp; self.health = health; self.controls = controls
        self.platforms = platforms; self.webhooks = webhooks; self.delivery = delivery
    }
}

/// The daemon's HTTP listener (banner, metrics, health, unsubscribe).
public struct HTTPListener: Sendable, Hashable, Codable {
    public var host: String
    public var port: Int
    /// The address customers reach the listener at, used in unsubscribe links and banner snippets.
    public var publicURL: String
    public init(host: String, port: Int, publicURL: String) { self.host = host; self.port = port; self.publicURL = publicURL }
}

/// The unix socket the CLI talks to the daemon over.
public struct ControlSocket: Sendable, Hashable, Codable {
    public var path: String
    /// Group that owns the socket (mode 0660); nil keeps the daemon's group.
    public var group: String?
    public init(path: String, group: String?) { self.path = path; self.group = group }
}

/// A named SMTP server that email channels refer to.
public struct SMTPServer: Sendable, Hashable, Codable {
    public enum StartTLS: String, Sendable, Hashable, Codable, CaseIterable {
        /// Refuse to send unless the server offers STARTTLS (never a silent downgrade).
        case required
        /// Use STARTTLS when offered.
        case optional
        /// Plain text (only for local relays).
        case off
    }
    public var name: String
    /// `smtp://host:port` or `smtps://host:port`.
    public var url: String
    public var startTLS: StartTLS
    public var username: String?
    public var password: Secret?
    public var caFile: String?
    public var verifyTLS: Bool
    public var maxConnections: Int
    public var rate: Rate?
    public var timeout: TimeSpan

    public init(name: String, url: String, startTLS: StartTLS, username: String?, password: Secret?, caFile: String?,
                verifyTLS: Bool, maxConnections: Int, rate: Rate?, timeout: TimeSpan) {
        self.name = name; self.url = url; self.startTLS = startTLS; self.username = username; self.password = password
        self.caFile = caFile; self.verifyTLS = verifyTLS; self.maxConnections = maxConnections; self.rate = rate; self.timeout = timeout
    }
}

/// Which webhook targets the daemon may call.
public struct WebhookNetwork: Sendable, Hashable, Codable {
    /// Allow loopback and private (RFC 1918, ULA) addresses. Link-local and metadata addresses stay refused.
    public var allowPrivateTargets: Bool
    public var timeout: TimeSpan
    public init(allowPrivateTargets: Bool, timeout: TimeSpan) { self.allowPrivateTargets = allowPrivateTargets; self.timeout = timeout }
}

/// `delivery:` in detour.yaml: retries and concurrency of the delivery workers.
public struct DeliverySettings: Sendable, Hashable, Codable {
    /// A delivery is dead after this many attempts.
    public var maxAttempts: Int
    /// ... or when it is older than this.
    public var maxAge: TimeSpan
    /// The first retry waits about this long; each later one twice as long (with jitter).
    public var initialBackoff: TimeSpan
    /// No retry waits longer than this (unless the receiver's Retry-After says so).
    public var maxBackoff: TimeSpan
    /// How long a worker holds a claimed delivery before another may take it over.
    public var lease: TimeSpan
    /// Messages in flight at once, per channel.
    public var emailConcurrency: Int
    public var webhookConcurrency: Int
    /// Texts sent at once (`delivery.concurrency.sms`).
    public var smsConcurrency: Int = 4
    public init(maxAttempts: Int = 10, maxAge: TimeSpan = .seconds(24 * 3600), initialBackoff: TimeSpan = .seconds(5),
                maxBackoff: TimeSpan = .seconds(30 * 60), lease: TimeSpan = .seconds(120),
                emailConcurrency: Int = 16, webhookConcurrency: Int = 16) {
        self.maxAttempts = maxAttempts; self.maxAge = maxAge; self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff; self.lease = lease; self.emailConcurrency = emailConcurrency
        self.webhookConcurrency = webhookConcurrency
    }
}

/// `node:` in `detour.yaml`: how this daemon takes part in a cluster (several daemons on one
/// PostgreSQL database). Ignored on SQLite, where one daemon always decides.
public struct NodeSettings: Sendable, Codable, Hashable {
    /// The node's name, unique in the cluster (leases, the audit log, `detour status`); the host name by default.
    public var name: String?
    /// How long the leader lease lasts; the leader renews it every third of it, and another node takes
    /// over within about two of them after the leader stops.
    public var leaderLease: TimeSpan = .seconds(15)
    /// `cluster.quorum`: how many nodes that can tell must see a platform down for the cluster to
    /// call it down; nil (`majority`, the default) for more than half of them.
    public var quorum: Int?
    public init() {}
}
