import DetourCore
import Foundation
import GRDB

/// A row of `policy_versions`: one loaded version of one business's policy file.
struct PolicyVersionRow: StoreRecord {
    static let databaseTableName = "policy_versions"

    var id: Int64?
    var business: BusinessID
    var file: String
    var contentHash: String
    var loadedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, business, file
        case contentHash = "content_hash"
        case loadedAt = "loaded_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let business = Column(CodingKeys.business)
        static let contentHash = Column(CodingKeys.contentHash)
    }

    init(_ version: PolicyVersion) {
        id = nil
        business = version.business
        file = version.file
        contentHash = version.contentHash
        loadedAt = version.loadedAt
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
