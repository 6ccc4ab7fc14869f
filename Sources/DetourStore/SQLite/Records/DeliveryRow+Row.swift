import DetourCore
import Foundation
import GRDB

extension DeliveryRow {
    /// Reads a row by column name, without the Codable machinery: every claim of a fan-out reads
    /// its rows here, thousands a second. A value that is not what the schema's CHECKs allow is a
    /// broken database, reported by GRDB as a decoding error.
    init(row: Row) throws {
        func date(_ column: String) -> Date? { (row[column] as Double?).map { Date(timeIntervalSince1970: $0) } }
        func required<T>(_ value: T?, _ column: String) throws -> T {
            guard let value else {
                throw DatabaseError(resultCode: .SQLITE_MISMATCH, message: "deliveries.\(column) holds an unexpected value")
            }
            return value
        }
        id = row["id"]
        incident = try required(row["incident"], "incident")
        business = BusinessID(try required(row["business"] as String?, "business"))
        event = try required((row["event"] as String?).flatMap(IncidentEvent.init(rawValue:)), "event")
        eventSequence = try required(row["event_sequence"], "event_sequence")
        channel = try required((row["channel"] as String?).flatMap(ChannelKind.init(rawValue:)), "channel")
        target = try required(row["target"], "target")
        recipientName = row["recipient_name"]
        locale = row["locale"]
        idempotencyKey = try required(row["idempotency_key"], "idempotency_key")
        state = try required((row["state"] as String?).flatMap(DeliveryState.init(rawValue:)), "state")
        attempts = try required(row["attempts"], "attempts")
        createdAt = try required(date("created_at"), "created_at")
        nextAttemptAt = try required(date("next_attempt_at"), "next_attempt_at")
        leaseOwner = row["lease_owner"]
        leaseExpiresAt = date("lease_expires_at")
        lastError = row["last_error"]
        reply = row["reply"]
        sentAt = date("sent_at")
    }
}
