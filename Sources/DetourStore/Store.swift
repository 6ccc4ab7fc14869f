import DetourCore
import Foundation

/// Where Detour keeps what must survive a crash: policy versions, status transitions, incidents,
/// the outbox of deliveries, overrides, unsubscribes and the audit log.
///
/// `SQLiteStore` is the reference implementation (one file, WAL). Leases are rows in the store, so
/// several processes (and, with a PostgreSQL store, several machines) can share one queue.
/// Nothing in a store holds a secret.
public protocol Store: StatusTransitionLog {
    /// The random id of this store (32 lower-case hex digits), made once when it was created and kept
    /// for good: a new state file gets a new one, so ids built from incident and delivery numbers
    /// (Message-IDs, webhook ids) that include it never repeat across state files.
    var installID: String { get }

    // MARK: Policies

    /// Records that this version of a business's policy was loaded; returns its version id.
    /// Loading the same bytes again returns the existing id.
    func recordPolicyVersion(_ version: PolicyVersion) async throws -> Int64
    /// The same for many versions at once, in one transaction; ids in the same order.
    func recordPolicyVersions(_ versions: [PolicyVersion]) async throws -> [Int64]

    // MARK: Incidents

    /// Opens an incident and queues its deliveries (and writes the audit entry) in one transaction.
    /// Fails with `StoreError.conflict` if the business already has an open incident.
    func openIncident(_ incident: NewIncident, deliveries: some Sequence<NewDelivery> & Sendable, audit: AuditEntry?) async throws -> IncidentRecord

    /// Reopens (within cooldown) or resolves an incident and queues the event's deliveries, in one transaction.
    func recordEvent(_ change: IncidentChange, deliveries: some Sequence<NewDelivery> & Sendable, audit: AuditEntry?) async throws -> IncidentRecord

    /// The newest incident of every business (open or not), for the engine to rebuild its state at start.
    func latestIncidents() async throws -> [IncidentRecord]
    func incidents(_ filter: IncidentFilter) async throws -> [IncidentRecord]
    func incident(_ id: Int64) async throws -> IncidentRecord?

    /// How many emails and texts each address or phone number has been sent (or has queued) for this incident.
    func messageCounts(incident: Int64) async throws -> [String: Int]

    // MARK: The outbox

    /// Leases up to `limit` due deliveries of one channel to `owner` until `now + lease`:
    /// queued or failed ones whose next attempt is due, and sending ones whose lease has expired.
    /// Their state becomes `sending` and their attempt count goes up by one.
    func claim(channel: ChannelKind, limit: Int, owner: String, lease: Duration, now: Date) async throws -> [DeliveryRecord]

    /// Records how an attempt went. Returns false (and changes nothing) if `owner` no longer holds the lease.
    func complete(_ id: Int64, owner: String, outcome: DeliveryOutcome, now: Date) async throws -> Bool

    /// Records many attempts in one transaction, each only if `owner` still holds its lease.
    /// Returns the ids whose lease was lost (those outcomes are not recorded), in the order given.
    func complete(_ outcomes: [CompletedDelivery], owner: String, now: Date) async throws -> [Int64]

    /// Extends the leases `owner` holds on these deliveries.
    func renewLeases(_ ids: [Int64], owner: String, until: Date) async throws

    /// Returns every delivery leased by one of `owners` to `queued`, due now, keeping its attempt count.
    func releaseLeases(owners: [String], now: Date) async throws -> Int

    /// The distinct lease owners of deliveries now in `sending`.
    func leaseOwners() async throws -> [String]

    func deliveries(_ filter: DeliveryFilter) async throws -> [DeliveryRecord]

    /// Puts deliveries back in the queue, due now, with their attempt count reset. Returns how many.
    func requeue(_ selection: RequeueSelection, now: Date, audit: AuditEntry?) async throws -> Int

    /// How many deliveries are in each state.
    func queueDepth() async throws -> [DeliveryState: Int]

    /// The outbox's figures for the metrics at `now`, read in one transaction.
    func outboxStats(now: Date) async throws -> OutboxStats

    // MARK: Overrides (manual failovers and holds)

    func overrides() async throws -> [OverrideRecord]
    /// Sets (replacing) the override of this kind for the business, with its audit entry, in one transaction.
    func setOverride(_ override: OverrideRecord, audit: AuditEntry) async throws
    /// Removes the override of this kind; returns false if there was none.
    func clearOverride(business: BusinessID, kind: OverrideKind, audit: AuditEntry) async throws -> Bool

    // MARK: Unsubscribes

    func unsubscribe(business: BusinessID, email: String, at: Date) async throws
    func unsubscribed(business: BusinessID) async throws -> Set<String>

    // MARK: Audit

    func appendAudit(_ entry: AuditEntry) async throws
    func audit(business: BusinessID?, limit: Int) async throws -> [AuditEntry]
}

/// A store operation that could not be done.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The state file cannot be opened, created or migrated.
        public static let unavailable = Code(rawValue: "store.unavailable")
        /// The change contradicts what is stored (e.g. a second open incident for one business).
        public static let conflict = Code(rawValue: "store.conflict")
        /// The row asked for does not exist.
        public static let notFound = Code(rawValue: "store.not_found")
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

// MARK: - Values

/// One loaded version of one business's policy file.
public struct PolicyVersion: Sendable, Hashable, Codable {
    public var business: BusinessID
    public var file: String
    /// SHA-256 of the file's bytes, hex.
    public var contentHash: String
    public var loadedAt: Date
    public init(business: BusinessID, file: String, contentHash: String, loadedAt: Date) {
        self.business = business; self.file = file; self.contentHash = contentHash; self.loadedAt = loadedAt
    }
}

public enum IncidentState: String, Sendable, Hashable, Codable {
    case open, resolved
}

/// What the engine asks the store to open.
public struct NewIncident: Sendable, Hashable {
    public var business: BusinessID
    public var origin: IncidentOrigin
    /// `probes`, or the operator: `uid 1000 (alice)`.
    public var openedBy: String
    public var reason: String
    public var platforms: [PlatformID]
    public var policyVersion: Int64
    public var openedAt: Date
    public init(business: BusinessID, origin: IncidentOrigin, openedBy: String, reason: String, platforms: [PlatformID],
                policyVersion: Int64, openedAt: Date) {
        self.business = business; self.origin = origin; self.openedBy = openedBy; self.reason = reason
        self.platforms = platforms; self.policyVersion = policyVersion; self.openedAt = openedAt
    }
}

/// A later event of an existing incident.
public enum IncidentChange: Sendable, Hashable {
    /// The platforms failed again within the cooldown: the same incident goes on (its event sequence goes up by one).
    case reopen(incident: Int64, at: Date, reason: String, platforms: [PlatformID])
    /// The all-clear (its event sequence goes up by one).
    case resolve(incident: Int64, at: Date, by: String, reason: String)
    /// An operator took over an open probe-opened incident (`failover start` while it is open): origin becomes manual.
    case takeOver(incident: Int64, by: String, reason: String)
}

/// One incident as stored.
public struct IncidentRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var business: BusinessID
    public var origin: IncidentOrigin
    public var openedBy: String
    public var reason: String
    public var platforms: [PlatformID]
    /// The policy version in force when it was opened.
    public var policyVersion: Int64
    public var state: IncidentState
    public var openedAt: Date
    public var resolvedAt: Date?
    public var resolvedBy: String?
    public var resolveReason: String?
    /// 1 when opened; each reopen and resolve adds one. Part of every delivery's idempotency key.
    public var eventSequence: Int
    public init(id: Int64, business: BusinessID, origin: IncidentOrigin, openedBy: String, reason: String,
                platforms: [PlatformID], policyVersion: Int64, state: IncidentState, openedAt: Date, resolvedAt: Date?,
                resolvedBy: String?, resolveReason: String?, eventSequence: Int) {
        self.id = id; self.business = business; self.origin = origin; self.openedBy = openedBy; self.reason = reason
        self.platforms = platforms; self.policyVersion = policyVersion; self.state = state; self.openedAt = openedAt
        self.resolvedAt = resolvedAt; self.resolvedBy = resolvedBy; self.resolveReason = resolveReason
        self.eventSequence = eventSequence
    }
}

/// Which incidents to list (`detour incidents` sends one over the control socket).
public struct IncidentFilter: Sendable, Hashable, Codable {
    public var business: BusinessID?
    public var state: IncidentState?
    /// At most this many, newest first.
    public var limit: Int
    public init(business: BusinessID? = nil, state: IncidentState? = nil, limit: Int = 100) {
        self.business = business; self.state = state; self.limit = limit
    }

    /// Every key may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(business: try c.decodeIfPresent(BusinessID.self, forKey: .business),
                  state: try c.decodeIfPresent(IncidentState.self, forKey: .state),
                  limit: try c.decodeIfPresent(Int.self, forKey: .limit) ?? 100)
    }
}

public enum DeliveryState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting for its first attempt.
    case queued
    /// Leased by a worker that is sending it now.
    case sending
    case sent
    /// The last attempt failed and can be retried; waiting for `nextAttemptAt`.
    case failed
    /// Given up: a permanent error, or too many attempts or too old. The last error is kept.
    case dead
}

/// One delivery as stored.
public struct DeliveryRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var incident: Int64
    public var business: BusinessID
    public var event: IncidentEvent
    public var eventSequence: Int
    public var channel: ChannelKind
    public var target: String
    public var recipientName: String?
    public var locale: String?
    public var idempotencyKey: String
    public var state: DeliveryState
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    /// The last error, with the server's reply.
    public var lastError: String?
    /// What the receiving side answered when it accepted the message.
    public var reply: String?
    public var sentAt: Date?
    public init(id: Int64, incident: Int64, business: BusinessID, event: IncidentEvent, eventSequence: Int,
                channel: ChannelKind, target: String, recipientName: String?, locale: String?, idempotencyKey: String,
                state: DeliveryState, attempts: Int, createdAt: Date, nextAttemptAt: Date, leaseOwner: String?,
                leaseExpiresAt: Date?, lastError: String?, reply: String?, sentAt: Date?) {
        self.id = id; self.incident = incident; self.business = business; self.event = event
        self.eventSequence = eventSequence; self.channel = channel; self.target = target
        self.recipientName = recipientName; self.locale = locale; self.idempotencyKey = idempotencyKey
        self.state = state; self.attempts = attempts; self.createdAt = createdAt; self.nextAttemptAt = nextAttemptAt
        self.leaseOwner = leaseOwner; self.leaseExpiresAt = leaseExpiresAt; self.lastError = lastError
        self.reply = reply; self.sentAt = sentAt
    }
}

/// How one attempt went, as the worker records it.
public enum DeliveryOutcome: Sendable, Hashable {
    case sent(reply: String)
    /// Failed; try again at `retryAt`.
    case retry(error: String, retryAt: Date)
    /// Failed for good.
    case dead(error: String)
}

/// Which deliveries to list (`detour deliveries` sends one over the control socket).
public struct DeliveryFilter: Sendable, Hashable, Codable {
    public var business: BusinessID?
    public var incident: Int64?
    public var state: DeliveryState?
    public var channel: ChannelKind?
    /// At most this many, newest first.
    public var limit: Int
    public init(business: BusinessID? = nil, incident: Int64? = nil, state: DeliveryState? = nil,
                channel: ChannelKind? = nil, limit: Int = 200) {
        self.business = business; self.incident = incident; self.state = state; self.channel = channel; self.limit = limit
    }

    /// Every key may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(business: try c.decodeIfPresent(BusinessID.self, forKey: .business),
                  incident: try c.decodeIfPresent(Int64.self, forKey: .incident),
                  state: try c.decodeIfPresent(DeliveryState.self, forKey: .state),
                  channel: try c.decodeIfPresent(ChannelKind.self, forKey: .channel),
                  limit: try c.decodeIfPresent(Int.self, forKey: .limit) ?? 200)
    }
}

public enum RequeueSelection: Sendable, Hashable {
    case ids([Int64])
    /// Every dead delivery (of one business when given).
    case dead(business: BusinessID?)
}

public enum OverrideKind: String, Sendable, Hashable, Codable {
    /// `detour failover start`: the business is failed over until stopped by hand.
    case failover
    /// `detour hold`: automatic failover is suppressed (a maintenance window).
    case hold
}

/// A manual failover or hold, set from the CLI; it wins over the probes until released or expired.
public struct OverrideRecord: Sendable, Hashable, Codable {
    public var business: BusinessID
    public var kind: OverrideKind
    /// Platforms named by `failover start --platform` (empty: all the policy depends on).
    public var platforms: [PlatformID]
    public var reason: String
    /// `uid 1000 (alice)`.
    public var setBy: String
    public var setAt: Date
    /// Holds expire; manual failovers do not.
    public var expiresAt: Date?
    public init(business: BusinessID, kind: OverrideKind, platforms: [PlatformID], reason: String, setBy: String,
                setAt: Date, expiresAt: Date?) {
        self.business = business; self.kind = kind; self.platforms = platforms; self.reason = reason
        self.setBy = setBy; self.setAt = setAt; self.expiresAt = expiresAt
    }
}

/// One line of the append-only audit log: a manual action or a policy change.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var at: Date
    /// `uid 1000 (alice)`, `probes`, `reload`.
    public var actor: String
    /// `failover.start`, `failover.stop`, `hold.set`, `hold.release`, `policy.loaded`, `policy.changed`,
    /// `policy.removed`, `policy.rejected`, `deliveries.retry`, `endpoint.disabled`.
    public var action: String
    public var business: BusinessID?
    public var incident: Int64?
    public var detail: String
    public init(at: Date, actor: String, action: String, business: BusinessID?, incident: Int64?, detail: String) {
        self.at = at; self.actor = actor; self.action = action; self.business = business
        self.incident = incident; self.detail = detail
    }
}
