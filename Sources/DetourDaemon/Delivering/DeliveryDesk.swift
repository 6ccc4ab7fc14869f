import DetourChannels
import DetourCore
import DetourStore
import DetourTransport
import Foundation
import Logging
import Synchronization

/// The delivering side: everything needed to turn a claimed delivery into a message, and nothing
/// of deciding. It owns the channels (built from a `PolicySnapshot`), the incident cache, the
/// webhooks disabled by an HTTP 410, the unsubscribe links and the ids receivers see.
///
/// Delivery workers ask it to `prepare` each delivery; it never calls the deciding actor, so a node
/// that does not decide can deliver, and sending never waits behind a tick or a reload. Its state is
/// behind a lock held only to copy or swap values: `prepare` costs no actor hop.
public final class DeliveryDesk: Sendable {
    /// The configuration in force: one reference, so reading it for a delivery costs one retain.
    private final class Installed: Sendable {
        let snapshot: PolicySnapshot
        /// The channel kinds some policy uses.
        let kinds: Set<ChannelKind>
        let channels: ChannelSet
        init(_ snapshot: PolicySnapshot, _ channels: ChannelSet) {
            self.snapshot = snapshot; self.channels = channels
            var kinds = Set<ChannelKind>()
            for p in snapshot.all {
                if p.email != nil { kinds.insert(.email) }
                if p.sms != nil { kinds.insert(.sms) }
                if p.banner != nil { kinds.insert(.banner) }
                if !p.webhooks.isEmpty { kinds.insert(.webhook) }
                for s in p.social { kinds.insert(s.kind) }
            }
            self.kinds = kinds
        }
    }

    /// Whether some policy in force sends through `kind` (a loop for a kind nobody uses polls seldom).
    func uses(_ kind: ChannelKind) -> Bool { state.withLock { $0.installed.kinds.contains(kind) } }

    private struct State {
        var installed: Installed
        var incidents: [Int64: IncidentRecord] = [:]
        var disabled: [BusinessID: [String: StatusReport.DisabledWebhook]] = [:]
        /// `incident/number` of outage texts not sent because the incident ended during quiet hours.
        var textsSkippedAtNight: Set<String> = []
        /// On a cluster: the incident event whose banner this node shows, by business.
        var bannersShown: [BusinessID: IncidentEvent] = [:]
    }

    private struct IncidentEvent: Hashable {
        var incident: Int64
        var sequence: Int
    }

    private let state: Mutex<State>
    let pools: SMTPPools
    let http: CurlHTTPClient
    let bannerState: BannerState
    let store: any Store
    let links: UnsubscribeLinks
    let metrics: DetourMetrics
    let logger: Logger
    let now: @Sendable () -> Date
    /// The state database's random id: part of every Message-ID and webhook-id.
    let installID: String

    /// Builds the channels of `snapshot`.
    /// - Parameters:
    ///   - pools: SMTP connection pools, kept across reloads while a server's settings stay the same.
    ///   - http: the libcurl client webhooks are sent with.
    ///   - bannerState: what the HTTP listener serves as each business's banner.
    public init(snapshot: PolicySnapshot, store: any Store, pools: SMTPPools, http: CurlHTTPClient, bannerState: BannerState,
                links: UnsubscribeLinks, metrics: DetourMetrics, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) async {
        let channels = await ChannelSet(policies: snapshot.all, daemon: snapshot.daemon, pools: pools, http: http,
                                        bannerState: bannerState, logger: logger)
        state = Mutex(State(installed: Installed(snapshot, channels)))
        self.pools = pools; self.http = http; self.bannerState = bannerState
        self.store = store; self.links = links; self.metrics = metrics; self.logger = logger; self.now = now
        installID = store.installID
    }

    // MARK: - Configuration

    /// Puts a new configuration in force: builds its channels (templates parsed, SMTP pools kept or
    /// replaced), then swaps them in whole. Webhooks disabled under a policy that changed are enabled
    /// again; the banners of businesses new to the desk are read from what is published.
    public func install(_ snapshot: PolicySnapshot) async {
        let channels = await ChannelSet(policies: snapshot.all, daemon: snapshot.daemon, pools: pools, http: http,
                                        bannerState: bannerState, logger: logger)
        let known = Set(self.snapshot.all.map(\.business))
        swap(snapshot, channels: channels)
        await prepareBanners(Set(snapshot.all.map(\.business)).subtracting(known))
    }

    private func swap(_ snapshot: PolicySnapshot, channels: ChannelSet) {
        let count = state.withLock { s -> Int in
            for (business, policy) in snapshot.policies {
                if let old = s.installed.snapshot.policy(business), old.source.contentHash != policy.source.contentHash {
                    s.disabled[business] = nil
                }
            }
            s.installed = Installed(snapshot, channels)
            return s.disabled.values.reduce(0) { $0 + $1.count }
        }
        metrics.setDisabledWebhooks(count)
    }

    var snapshot: PolicySnapshot { state.withLock { $0.installed }.snapshot }
    var channels: ChannelSet { state.withLock { $0.installed }.channels }

    // MARK: - Incidents

    /// The deciding side (on this node) tells the desk what it just wrote, so no store read is needed.
    public func noteIncident(_ record: IncidentRecord) {
        state.withLock { s in
            if let cached = s.incidents[record.id], cached.eventSequence > record.eventSequence { return }
            s.incidents[record.id] = record
        }
    }

    /// The open incidents this node knows of, without asking the store (for `status` while the
    /// database does not answer).
    func knownOpenIncidents() -> [IncidentRecord] {
        state.withLock { s in s.incidents.values.filter { $0.state == .open } }
    }

    /// The incident as of at least `sequence`: from the cache, else read from the store (another node
    /// may have written it). Banner changes always read the store, so a late one is never mistaken for current.
    func incident(_ id: Int64, atLeast sequence: Int, fresh: Bool) async throws -> IncidentRecord {
        if !fresh, let hit = state.withLock({ $0.incidents[id] }), hit.eventSequence >= sequence { return hit }
        guard let record = try await store.incident(id) else { throw StoreError(.notFound, "incident \(id)") }
        noteIncident(record)
        return record
    }

    // MARK: - Webhooks gone for good

    /// A webhook answered 410 Gone: nothing more is queued or sent to it until its policy changes.
    func disableWebhook(_ name: String, business: BusinessID, reason: String) async {
        let at = now()
        let added = state.withLock { s -> Int? in
            guard s.disabled[business]?[name] == nil else { return nil }
            s.disabled[business, default: [:]][name] = StatusReport.DisabledWebhook(business: business.rawValue, webhook: name,
                                                                                   since: at, reason: reason)
            return s.disabled.values.reduce(0) { $0 + $1.count }
        }
        guard let count = added else { return }
        metrics.setDisabledWebhooks(count)
        logger.error("webhook disabled until its policy changes", metadata: ["business": "\(business)", "webhook.name": "\(name)", "error": "\(reason)"])
        try? await store.appendAudit(AuditEntry(at: at, actor: "detour", action: "endpoint.disabled", business: business, incident: nil,
                                                detail: "webhook \(name): \(reason); it stays disabled until its policy changes"))
    }

    /// The webhooks of `business` that are disabled now (planning skips them).
    public func disabledWebhookNames(_ business: BusinessID) -> Set<String> {
        state.withLock { Set($0.disabled[business].map { Array($0.keys) } ?? []) }
    }

    /// Every disabled webhook, for `detour status`.
    public var disabledWebhooks: [StatusReport.DisabledWebhook] {
        state.withLock { $0.disabled.values.flatMap(\.values) }.sorted { ($0.business, $0.webhook) < ($1.business, $1.webhook) }
    }

    // MARK: - Preparing a delivery

    /// Builds the message for a claimed delivery from the policy in force now (a policy edited
    /// mid-incident applies to deliveries not yet made) and the incident as stored.
    func prepare(_ d: DeliveryRecord) async -> PreparedDelivery {
        let (installed, disabled) = state.withLock { s in
            (s.installed, d.channel == .webhook && s.disabled[d.business]?[d.target] != nil)
        }
        let snapshot = installed.snapshot
        guard let policy = snapshot.policy(d.business) else {
            return .fail(DeliveryError(code: "policy.gone", message: "\(d.channel.rawValue) to \(d.target): business '\(d.business)' has no policy any more", retryable: false))
        }
        let incident: IncidentRecord
        do { incident = try await self.incident(d.incident, atLeast: d.eventSequence, fresh: d.channel == .banner) } catch {
            return .fail(DeliveryError(code: "store.read", message: "cannot read incident \(d.incident): \(error)", retryable: true))
        }
        if d.channel == .banner, d.eventSequence < incident.eventSequence {
            return .superseded("banner change replaced by event \(incident.eventSequence) of incident \(incident.id)")
        }
        if d.channel == .sms, StopList.shared.numbers(policy.sms?.stopFile).contains(d.target) {
            return .superseded("\(d.target) replied STOP (in the stop file)")
        }
        if d.channel == .sms, let quiet = policy.sms?.quietHours {
            // All-clear texts wait 5 s longer, so that the outage texts that waited go (or are
            // dropped) first.
            let margin: TimeInterval = d.event == .resolved ? 5 : 0
            if let end = quiet.end(after: now().addingTimeInterval(-margin)) {
                return .later("quiet hours \(quiet): waits until \(quiet.span.suffix(5))", end.addingTimeInterval(margin))
            }
            // An outage text that waited for quiet hours is not sent once the incident is over, and
            // then nobody it was for is sent the all-clear either.
            let key = "\(d.incident)/\(d.target)"
            if let resolved = incident.resolvedAt {
                let due = d.event == .opened ? d.createdAt : incident.openedAt
                let dueInQuiet = quiet.end(after: due).map { resolved < $0 } ?? false
                if d.event == .opened, dueInQuiet || (d.lastError ?? "").hasPrefix("quiet hours") {
                    state.withLock { _ = $0.textsSkippedAtNight.insert(key) }
                    return .superseded("the incident was resolved during quiet hours")
                }
                if d.event == .resolved, dueInQuiet || state.withLock({ $0.textsSkippedAtNight.contains(key) }) {
                    return .superseded("the outage text waited for quiet hours and was never sent")
                }
            }
        }
        var inReplyTo: String?
        if d.channel.isSocial, d.event == .resolved {
            // The all-clear answers the outage post, so it waits (a little) for that post to go first.
            let posts = (try? await store.deliveries(DeliveryFilter(incident: d.incident, channel: d.channel, limit: 50))) ?? []
            let opened = posts.filter { $0.event == .opened && $0.target == d.target }
            if d.attempts < 3, let waiting = opened.first(where: { [.queued, .sending, .failed].contains($0.state) }) {
                return .later("waits for the outage post (delivery \(waiting.id)) to go first", now().addingTimeInterval(15))
            }
            inReplyTo = opened.filter { $0.state == .sent }.max(by: { $0.eventSequence < $1.eventSequence })?.reply
        }
        if d.channel == .webhook, disabled {
            return .fail(DeliveryError(code: "webhook.disabled", message: "webhook \(d.target) of \(d.business) is disabled after an HTTP 410 until its policy changes", retryable: false))
        }
        let channel: any Channel
        switch installed.channels.channel(business: d.business, kind: d.channel, target: d.target) {
        case .success(let c): channel = c
        case .failure(let e): return .fail(e)
        }
        let names = incident.platforms.map { snapshot.daemon.platforms[$0]?.displayName ?? $0.rawValue }
        let event = MessageEvent(d.event)
        let text = d.event == .opened ? policy.message.outage : (policy.message.recovery ?? "")
        let isEmail = d.channel == .email, toPerson = d.channel == .email || d.channel == .sms
        let context = MessageContext(
            event: event, businessID: policy.business.rawValue, businessName: policy.displayName, incidentID: "\(incident.id)",
            platforms: names, since: incident.openedAt, resolvedAt: d.event == .resolved ? incident.resolvedAt : nil,
            message: text, contacts: policy.contacts,
            recipientName: toPerson ? d.recipientName : nil, recipientEmail: isEmail ? d.target : nil,
            locale: toPerson ? d.locale : nil,
            unsubscribeURL: isEmail ? links.url(business: policy.business, email: d.target) : nil,
            eventSequence: d.eventSequence)
        return .send(channel, OutgoingMessage(deliveryID: Self.messageID(d, install: installID), recipient: d.target, context: context,
                                              inReplyTo: inReplyTo))
    }

    /// Sends an operator alert to `business`'s staff webhook, once and not stored (the log, `status`
    /// and `/metrics` keep the record): something for the staff to fix, never for customers.
    func sendAlert(business: BusinessID, webhook: String, platform: String, text: String) async {
        let (installed, now) = (state.withLock { $0.installed }, self.now())
        guard let policy = installed.snapshot.policy(business),
              case .success(let channel) = installed.channels.channel(business: business, kind: .webhook, target: webhook) else { return }
        let context = MessageContext(event: .alert, businessID: business.rawValue, businessName: policy.displayName, incidentID: "alert",
                                     platforms: [platform], since: now, message: text, contacts: [])
        let message = OutgoingMessage(deliveryID: "detour-alert-\(installID.prefix(16))-\(Int(now.timeIntervalSince1970))-\(UInt32.random(in: 0...UInt32.max))",
                                      recipient: webhook, context: context)
        do {
            _ = try await channel.deliver(message)
            logger.notice("operator alert sent to the staff webhook", metadata: ["business": "\(business)", "webhook": "\(webhook)"])
        } catch {
            logger.error("cannot send an operator alert to the staff webhook", metadata: ["business": "\(business)", "webhook": "\(webhook)", "error": "\(error)"])
        }
    }

    /// The id receivers see (email Message-ID, webhook-id): the same for every attempt of one delivery,
    /// and never the same for two deliveries, even of two state databases (the install id is random
    /// per database), so a receiver that drops duplicates never drops a new notice.
    static func messageID(_ d: DeliveryRecord, install: String) -> String {
        "detour-\(install.prefix(16))-\(d.incident)-\(d.eventSequence)-\(d.id)"
    }

    // MARK: - Banners

    /// On a cluster: makes this node's banner endpoints and files show each business's banner as of
    /// its latest incident event, whichever node delivered the banner change. The change is rendered
    /// here from the same stored delivery (nothing is recorded: the delivering node records it).
    func showBanners(of incidents: [IncidentRecord]) async {
        let publishers = channels.bannerPublishers
        for record in incidents where publishers[record.business] != nil {
            let event = IncidentEvent(incident: record.id, sequence: record.eventSequence)
            if state.withLock({ $0.bannersShown[record.business] }) == event { continue }
            do {
                let changes = try await store.deliveries(DeliveryFilter(incident: record.id, channel: .banner, limit: 50))
                if let change = changes.filter({ $0.eventSequence <= record.eventSequence }).max(by: { $0.eventSequence < $1.eventSequence }),
                   case .send(let channel, let message) = await prepare(change) {
                    _ = try await channel.deliver(message)
                }
                state.withLock { $0.bannersShown[record.business] = event }
            } catch {
                logger.error("cannot show the banner another node decided", metadata: ["business": "\(record.business)", "error": "\(error)"])
            }
        }
    }

    /// Makes the banner endpoints and files show what is published now (at start, and for new businesses).
    func prepareBanners(_ businesses: Set<BusinessID>? = nil) async {
        for (business, publisher) in channels.bannerPublishers where businesses?.contains(business) ?? true {
            do { try await publisher.prepare() } catch {
                logger.error("cannot prepare the banner", metadata: ["business": "\(business)", "error": "\(error)"])
            }
        }
    }

    /// Keeps the banners of open incidents from expiring.
    func renewBanners() async {
        let open: Set<BusinessID>
        do { open = Set(try await store.incidents(IncidentFilter(state: .open, limit: 100_000)).map(\.business)) } catch {
            logger.error("cannot list open incidents to renew their banners", metadata: ["error": "\(error)"])
            return
        }
        for (business, publisher) in channels.bannerPublishers where open.contains(business) {
            do { try await publisher.renew() } catch {
                logger.error("cannot renew the banner", metadata: ["business": "\(business)", "error": "\(error)"])
            }
        }
    }

    /// Renders again, from the policy in force, the banner of each of `businesses` whose incident is
    /// open: customers see the banner now, so a reloaded text must reach it.
    func republishOpenBanners(_ businesses: Set<BusinessID>) async {
        for business in businesses.sorted() {
            let filter = DeliveryFilter(business: business, channel: .banner, limit: 1)
            guard let last = try? await store.deliveries(filter).first, last.event == .opened,
                  let incident = try? await store.incident(last.incident), incident.state == .open,
                  incident.eventSequence == last.eventSequence,
                  case .send(let channel, let message) = await prepare(last) else { continue }
            do {
                _ = try await channel.deliver(message)
                logger.notice("banner shows the reloaded text", metadata: ["business": "\(business)", "incident.id": "\(incident.id)"])
            } catch {
                logger.error("cannot show the reloaded text on the banner", metadata: ["business": "\(business)", "error": "\(error)"])
            }
        }
    }
}

/// What a worker needs to attempt one delivery, or why it cannot be attempted.
enum PreparedDelivery: Sendable {
    case send(any Channel, OutgoingMessage)
    /// Nothing to send any more (a banner change that a later event has replaced).
    case superseded(String)
    /// Not yet: try again at this time (quiet hours; an all-clear post waiting for the outage post).
    case later(String, Date)
    case fail(DeliveryError)
}
