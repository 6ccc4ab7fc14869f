import DetourCore
import Foundation
import GRDB

/// A row of `unsubscribes`: an address that asked a business for no more emails. Stored lowercased.
struct UnsubscribeRow: StoreRecord {
    static let databaseTableName = "unsubscribes"

    var business: BusinessID
    var email: String
    var at: Date

    enum CodingKeys: String, CodingKey {
        case business, email, at
    }

    enum Columns {
        static let business = Column(CodingKeys.business)
        static let email = Column(CodingKeys.email)
    }

    init(business: BusinessID, email: String, at: Date) {
        self.business = business
        self.email = email.lowercased()
        self.at = at
    }
}
