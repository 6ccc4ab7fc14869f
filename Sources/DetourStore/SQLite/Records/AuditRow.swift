import DetourCore
import Foundation
import GRDB

/// A row of `audit`: one line of the append-only log. Triggers refuse UPDATE and DELETE.
struct AuditRow: StoreRecord {
    static let databaseTableName = "audit"

    var id: Int64?
    var at: Date
    var actor: String
    var action: String
    var business: BusinessID?
    var incident: Int64?
    var detail: String

    enum CodingKeys: String, CodingKey {
        case id, at, actor, action, business, incident, detail
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let business = Column(CodingKeys.business)
    }

    init(_ entry: AuditEntry) {
        id = nil
        at = entry.at
        actor = entry.actor
        action = entry.action
        business = entry.business
        incident = entry.incident
        detail = entry.detail
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var entry: AuditEntry {
        AuditEntry(at: at, actor: actor, action: action, business: business, incident: incident, detail: detail)
    }
}
