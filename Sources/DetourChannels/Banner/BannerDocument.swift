import DetourCore
import Foundation

/// The contents of `banner.json`: everything a page needs to show the banner or take it down.
///
/// The schema is documented for site owners in `channels/banner/README.md`; bump `version` when a
/// field changes meaning.
public struct BannerDocument: Sendable, Hashable, Codable {
    /// The schema version this code writes.
    public static let currentVersion = 1

    /// The business the banner speaks for.
    public struct Business: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        public init(id: String, name: String) { self.id = id; self.name = name }
    }

    public var version: Int
    public var business: Business
    /// Show the banner (and only until `expiresAt`).
    public var active: Bool
    /// Published by `detour send-test`: a real banner that says it is a test.
    public var test: Bool
    /// The incident event that produced this document; nil before the first incident.
    public var event: MessageEvent?
    public var incident: String?
    /// Which event of the incident produced it (a reopen has a higher one than the all-clear before it).
    public var sequence: Int?
    public var message: String
    /// Only http(s), tel, mailto and sms links are ever written.
    public var links: [ContactLink]
    /// Display names of the platforms that are (or were) down.
    public var platforms: [String]
    public var since: Date?
    public var updatedAt: Date
    /// Pages hide the banner after this moment unless the daemon renews it; nil when inactive.
    public var expiresAt: Date?
    public var resolvedAt: Date?

    public init(version: Int = BannerDocument.currentVersion, business: Business, active: Bool, test: Bool = false,
                event: MessageEvent?, incident: String?, message: String, links: [ContactLink], platforms: [String],
                since: Date?, updatedAt: Date, expiresAt: Date?, resolvedAt: Date? = nil) {
        self.version = version; self.business = business; self.active = active; self.test = test
        self.event = event; self.incident = incident; self.message = message; self.links = links
        self.platforms = platforms; self.since = since; self.updatedAt = updatedAt
        self.expiresAt = expiresAt; self.resolvedAt = resolvedAt
    }

    /// The same document, produced by event `sequence` of its incident.
    func withSequence(_ sequence: Int?) -> BannerDocument {
        var copy = self
        copy.sequence = sequence
        return copy
    }

    enum CodingKeys: String, CodingKey {
        case version, business, active, test, event, incident, sequence, message, links, platforms, since
        case updatedAt = "updated_at", expiresAt = "expires_at", resolvedAt = "resolved_at"
    }

    /// True when a page should show it at `now`.
    public func isLive(at now: Date) -> Bool {
        guard active, let expiresAt else { return false }
        return expiresAt > now
    }

    /// Link schemes a customer can safely follow; anything else (`javascript:`, `data:`) is dropped.
    public static let safeLinkSchemes: Set<String> = ["http", "https", "tel", "mailto", "sms"]

    /// Keeps the links whose scheme is in `safeLinkSchemes` and that have something after the colon.
    public static func safeLinks(_ links: [ContactLink]) -> [ContactLink] {
        links.filter { link in
            let parts = link.url.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, !parts[1].isEmpty else { return false }
            return safeLinkSchemes.contains(parts[0].lowercased())
        }
    }

    /// The exact bytes of `banner.json`: sorted keys, ISO 8601 dates in UTC, a final newline.
    public func encoded() throws(DeliveryError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return try encoder.encode(self) + Data("\n".utf8)
        } catch {
            throw DeliveryError(code: "banner.encode", message: "banner for \(business.id): cannot encode banner.json: \(error)", retryable: false)
        }
    }

    /// Reads `banner.json` bytes back (a restart picks up the banner it left).
    public static func decode(_ data: Data) -> BannerDocument? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(BannerDocument.self, from: data)
    }
}
