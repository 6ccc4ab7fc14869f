import DetourCore
import Foundation

/// The `banner` channel: puts the outage banner on a business's website and takes it down.
///
/// On `opened` and `test` it publishes `banner.json` (active, with an expiry), `banner.html` and
/// `banner.js` into the policy's `publish_dir`, each file replaced atomically, and updates the
/// `BannerState` the daemon serves from. On `resolved` it publishes `banner.json` with
/// `active: false` and an empty `banner.html` instead of deleting them: a page polling a deleted
/// file would get a 404 that a web server may cache or answer with an HTML error page, while an
/// inactive document is an explicit "take it down", and `banner.js` keeps loading without errors.
///
/// An active banner expires `ttl` after it was last published, so a banner left behind by a daemon
/// that died takes itself down. While the incident lasts the daemon calls `renew()` (or delivers the
/// `opened` message again, which is idempotent) well within the TTL.
///
/// One publisher serves one business. Writes are serialised by the actor; the file I/O is small and
/// synchronous.
public actor BannerPublisher: Channel {
    /// How long a published banner stays up without renewal.
    public static let defaultTTL: Duration = .seconds(15 * 60)

    public nonisolated let business: BusinessID
    public nonisolated let businessName: String
    public nonisolated let settings: BannerChannel
    public nonisolated let state: BannerState
    public nonisolated let ttl: Duration
    private let now: @Sendable () -> Date
    private let openedTemplate: TemplateRenderer
    private let resolvedTemplate: TemplateRenderer
    private let writer = AtomicFileWriter()
    /// The banner as this publisher last decided it; restored by `prepare()`.
    private var current: BannerState.Entry?
    /// `current` was read from the files a previous run left, and nothing has been published since.
    /// It is served, but it does not hold back an incident event: the files may come from another
    /// state database (a new one numbers its incidents from 1 again), and the daemon already drops
    /// an event its incident has moved past before it gets here.
    private var adoptedFromFiles = false

    /// Loads the templates (the policy's own files or the built-in ones) so a broken template
    /// shows up when the policy loads, not in the middle of an outage.
    public init(business: BusinessID, businessName: String, settings: BannerChannel, state: BannerState,
                ttl: Duration = BannerPublisher.defaultTTL,
                now: @escaping @Sendable () -> Date = { Date() }) throws(TemplateRenderer.Problem) {
        self.business = business
        self.businessName = businessName
        self.settings = settings
        self.state = state
        self.ttl = ttl
        self.now = now
        openedTemplate = try Self.template(settings.templates.opened, builtin: "banner/opened.html")
        resolvedTemplate = try Self.template(settings.templates.resolved, builtin: "banner/resolved.html")
    }

    /// The directory the files go to.
    public nonisolated var publishDir: String { settings.publishDir }

    /// Call once at start-up: adopts the banner this business already has (in `state`, or the
    /// `banner.json` a previous run left on disk), or publishes an inactive one, so that both the
    /// files and `/banner/BUSINESS.json` exist before the first incident. Always rewrites `banner.js`
    /// so a new binary ships its script.
    public func prepare() async throws(DeliveryError) {
        if let served = await state.entry(for: business.rawValue) {
            current = served
        } else if let data = FileManager.default.contents(atPath: publishDir + "/banner.json"),
                  let document = BannerDocument.decode(data), document.business.id == business.rawValue {
            let html = FileManager.default.contents(atPath: publishDir + "/banner.html") ?? Data()
            current = BannerState.Entry(document: document, json: data, html: html, revision: Self.nextRevision())
            adoptedFromFiles = true
        }
        let entry: BannerState.Entry
        if let current {
            entry = current
        } else {
            let idle = BannerDocument(business: .init(id: business.rawValue, name: businessName), active: false, event: nil,
                                      incident: nil, message: "", links: [], platforms: [], since: nil, updatedAt: now(), expiresAt: nil)
            entry = BannerState.Entry(document: idle, json: try idle.encoded(), html: Data(), revision: Self.nextRevision())
            current = entry
        }
        await state.store(entry, for: business.rawValue)
        try writeFiles(entry)
    }

    public func deliver(_ message: OutgoingMessage) async throws(DeliveryError) -> DeliveryReceipt {
        let context = message.context
        guard context.businessID == business.rawValue, message.recipient == business.rawValue else {
            throw DeliveryError(code: "banner.business",
                                message: "banner channel for \(business): asked to publish for '\(message.recipient)' (\(context.businessID))",
                                retryable: false)
        }
        let at = now()
        // Files left by a previous run hold back only a test (it must not replace a live outage banner).
        let standing = adoptedFromFiles && context.event != .test ? nil : current?.document
        if case .skip(let why) = BannerTransition.decide(current: standing, event: context.event,
                                                         incident: context.incidentID, sequence: context.eventSequence, now: at) {
            return DeliveryReceipt(reply: "banner for \(business) unchanged: \(why)")
        }
        let document = makeDocument(context, at: at).withSequence(context.eventSequence)
        let html = render(document, context)
        let entry = BannerState.Entry(document: document, json: try document.encoded(), html: Data(html.utf8), revision: Self.nextRevision())
        current = entry
        adoptedFromFiles = false
        // Memory first: even if the disk write fails, the daemon's own URLs show the right banner.
        let failure = writeFilesCatching(entry)
        await state.store(entry, for: business.rawValue)
        if let failure { throw failure }
        return DeliveryReceipt(reply: receipt(document))
    }

    /// Pushes the expiry of the active outage banner to now + TTL and republishes it. Returns the
    /// new expiry, or nil when no outage banner is up (nothing to renew; test banners just expire).
    @discardableResult
    public func renew() async throws(DeliveryError) -> Date? {
        guard var entry = current, entry.document.active, entry.document.event == .opened else { return nil }
        let at = now()
        entry.document.updatedAt = at
        entry.document.expiresAt = at.addingTimeInterval(Self.seconds(ttl))
        entry.json = try entry.document.encoded()
        entry.revision = Self.nextRevision()
        current = entry
        let failure = writeFilesCatching(entry)
        await state.store(entry, for: business.rawValue)
        if let failure { throw failure }
        return entry.document.expiresAt
    }

    // MARK: - Building

    private func makeDocument(_ c: MessageContext, at: Date) -> BannerDocument {
        let who = BannerDocument.Business(id: business.rawValue, name: c.businessName.isEmpty ? businessName : c.businessName)
        switch c.event {
        case .opened, .test, .alert:
            return BannerDocument(business: who, active: true, test: c.event != .opened, event: c.event, incident: c.incidentID,
                                  message: settings.message ?? c.message, links: BannerDocument.safeLinks(settings.links ?? c.contacts),
                                  platforms: c.platforms, since: c.since, updatedAt: at, expiresAt: at.addingTimeInterval(Self.seconds(ttl)))
        case .resolved:
            return BannerDocument(business: who, active: false, event: .resolved, incident: c.incidentID, message: "", links: [],
                                  platforms: c.platforms, since: c.since, updatedAt: at, expiresAt: nil, resolvedAt: c.resolvedAt ?? at)
        }
    }

    /// `banner.html`: the policy's template or the built-in one, with every value HTML-escaped.
    private func render(_ d: BannerDocument, _ c: MessageContext) -> String {
        var shown = c
        shown.message = d.active ? d.message : c.message
        shown.contacts = d.active ? d.links : BannerDocument.safeLinks(settings.links ?? c.contacts)
        var values = TemplateValues.from(shown)
        values["links"] = shown.contacts.map { ["label": $0.label, "url": $0.url] }
        values["has_links"] = !shown.contacts.isEmpty
        if let e = d.expiresAt { values["expires_at_iso"] = Self.iso(e) }
        return (d.active ? openedTemplate : resolvedTemplate).render(values)
    }

    private func receipt(_ d: BannerDocument) -> String {
        if d.active, let e = d.expiresAt {
            return "published \(d.test ? "test " : "")banner to \(publishDir) (expires \(Self.iso(e)))"
        }
        return "took the banner down in \(publishDir) (banner.json active: false)"
    }

    // MARK: - Writing

    /// Active: script and fragment first, then `banner.json`, which switches pages over.
    /// Inactive: `banner.json` first, so pages take the banner down as early as possible.
    private func writeFiles(_ entry: BannerState.Entry) throws(DeliveryError) {
        let files: [(String, Data)] = [("banner.js", state.script), ("banner.html", entry.html), ("banner.json", entry.json)]
        do {
            try writer.ensureDirectory(publishDir)
            for (name, data) in entry.document.active ? files : files.reversed() {
                try writer.write(data, named: name, in: publishDir)
            }
        } catch {
            throw BannerFailure.deliveryError(error, business: business.rawValue)
        }
    }

    private func writeFilesCatching(_ entry: BannerState.Entry) -> DeliveryError? {
        do { try writeFiles(entry); return nil } catch { return error }
    }

    // MARK: - Helpers

    private static func template(_ file: String?, builtin: String) throws(TemplateRenderer.Problem) -> TemplateRenderer {
        if let file { return try TemplateRenderer.file(file) }
        return try TemplateRenderer.builtin(builtin)
    }

    /// Monotonic, so revisions from an old and a new publisher (after a reload) still order.
    private static func nextRevision() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private static func seconds(_ d: Duration) -> TimeInterval {
        TimeInterval(d.components.seconds) + TimeInterval(d.components.attoseconds) / 1e18
    }

    private static func iso(_ date: Date) -> String { UTCDates.iso(date) }
}
