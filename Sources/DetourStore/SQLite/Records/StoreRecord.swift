import Foundation
import GRDB

/// What every table's record shares: dates are stored as REAL seconds since 1970 (microsecond
/// precision, and comparable with `<` in SQL), arrays as JSON text.
protocol StoreRecord: Codable, FetchableRecord, MutablePersistableRecord {}

extension StoreRecord {
    static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        .timeIntervalSince1970
    }

    static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        .timeIntervalSince1970
    }
}

extension Date {
    /// This date as the store writes it in raw SQL arguments: the same REAL the records write.
    var storeValue: Double { timeIntervalSince1970 }
}
