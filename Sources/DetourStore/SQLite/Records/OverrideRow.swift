import DetourCore
import Foundation
import GRDB

/// A row of `overrides`: a manual failover or hold; at most one of each kind per business.
struct OverrideRow: StoreRecord {
    static let databaseTableName = "overrides"

    var business: BusinessID
    var kind: OverrideKind
    /// JSON array text.
    var platforms: [PlatformID]
    var reason: String
    var setBy: String
    var setAt: Date
    var expiresAt: Date?

    enum CodingKeys: String, CodingKey {
        case business, kind, platforms, reason
        case setBy = "set_by"
        case setAt = "set_at"
        case expiresAt = "expires_at"
    }

    enum Columns {
        static let business = Column(CodingKeys.business)
        static let kind = Column(CodingKeys.kind)
    }

    init(_ override: OverrideRecord) {
        business = override.business
        kind = override.kind
        platforms = override.platforms
        reason = override.reason
        setBy = override.setBy
        setAt = override.setAt
        expiresAt = override.expiresAt
    }

    var record: OverrideRecord {
        OverrideRecord(business: business, kind: kind, platforms: platforms, reason: reason, setBy: setBy,
                       setAt: setAt, expiresAt: expiresAt)
    }
}
