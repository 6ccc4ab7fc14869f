import DetourCore
import Foundation
import GRDB

/// A row of `incidents`: one failover episode of one business.
struct IncidentRow: StoreRecord {
    static let databaseTableName = "incidents"

    var id: Int64?
    var business: BusinessID
    var origin: IncidentOrigin
    var openedBy: String
    var reason: String
    /// JSON array text.
    var platforms: [PlatformID]
    var policyVersion: Int64
    var state: IncidentState
    var openedAt: Date
    var resolvedAt: Date?
    var resolvedBy: String?
    var resolveReason: String?
    var eventSequence: Int

    enum CodingKeys: String, CodingKey {
        case id, business, origin, reason, platforms, state
        case openedBy = "opened_by"
        case policyVersion = "policy_version"
        case openedAt = "opened_at"
        case resolvedAt = "resolved_at"
        case resolvedBy = "resolved_by"
        case resolveReason = "resolve_reason"
        case eventSequence = "event_sequence"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let business = Column(CodingKeys.business)
        static let state = Column(CodingKeys.state)
    }

    init(_ new: NewIncident) {
        id = nil
        business = new.business
        origin = new.origin
        openedBy = new.openedBy
        reason = new.reason
        platforms = new.platforms
        policyVersion = new.policyVersion
        state = .open
        openedAt = new.openedAt
        resolvedAt = nil
        resolvedBy = nil
        resolveReason = nil
        eventSequence = 1
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// Takes the changeable fields of `r` (an incident event applied to this row's record).
    mutating func take(_ r: IncidentRecord) {
        origin = r.origin; openedBy = r.openedBy; reason = r.reason; platforms = r.platforms; state = r.state
        resolvedAt = r.resolvedAt; resolvedBy = r.resolvedBy; resolveReason = r.resolveReason; eventSequence = r.eventSequence
    }

    var record: IncidentRecord {
        IncidentRecord(id: id ?? 0, business: business, origin: origin, openedBy: openedBy, reason: reason,
                       platforms: platforms, policyVersion: policyVersion, state: state, openedAt: openedAt,
                       resolvedAt: resolvedAt, resolvedBy: resolvedBy, resolveReason: resolveReason,
                       eventSequence: eventSequence)
    }
}
