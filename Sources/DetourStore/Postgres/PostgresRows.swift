import DetourCore
import Foundation
import PostgresNIO

/// Rows of the PostgreSQL tables as records, and the column lists their queries select: each
/// decode reads the columns in the order of its list.
enum PostgresRows {
    static let incidentColumns = """
        id, business, origin, opened_by, reason, platforms, policy_version, state, opened_at, resolved_at,
        resolved_by, resolve_reason, event_sequence
        """

    static func incident(_ row: PostgresRow) throws -> IncidentRecord {
        let (id, business, origin, openedBy, reason, platforms, policyVersion, state, openedAt, resolvedAt,
             resolvedBy, resolveReason, sequence) = try row.decode(
                (Int64, String, String, String, String, String, Int64, String, Double, Double?, String?, String?, Int).self)
        return IncidentRecord(
            id: id, business: BusinessID(business), origin: try value(IncidentOrigin(rawValue: origin), "origin", origin),
            openedBy: openedBy, reason: reason, platforms: try platformList(platforms), policyVersion: policyVersion,
            state: try value(IncidentState(rawValue: state), "state", state), openedAt: Date(pgValue: openedAt),
            resolvedAt: resolvedAt.map(Date.init(pgValue:)), resolvedBy: resolvedBy, resolveReason: resolveReason,
            eventSequence: sequence)
    }

    static let deliveryColumns = """
        id, incident, business, event, event_sequence, channel, target, recipient_name, locale, idempotency_key,
        state, attempts, created_at, next_attempt_at, lease_owner, lease_expires_at, last_error, reply, sent_at
        """

    static func delivery(_ row: PostgresRow) throws -> DeliveryRecord {
        let (id, incident, business, event, sequence, channel, target, name, locale, key, state, attempts, createdAt,
             nextAttemptAt, leaseOwner, leaseExpiresAt, lastError, reply, sentAt) = try row.decode(
                (Int64, Int64, String, String, Int, String, String, String?, String?, String, String, Int, Double, Double,
                 String?, Double?, String?, String?, Double?).self)
        return DeliveryRecord(
            id: id, incident: incident, business: BusinessID(business),
            event: try value(IncidentEvent(rawValue: event), "event", event), eventSequence: sequence,
            channel: try value(ChannelKind(rawValue: channel), "channel", channel), target: target, recipientName: name,
            locale: locale, idempotencyKey: key, state: try value(DeliveryState(rawValue: state), "state", state),
            attempts: attempts, createdAt: Date(pgValue: createdAt), nextAttemptAt: Date(pgValue: nextAttemptAt),
            leaseOwner: leaseOwner, leaseExpiresAt: leaseExpiresAt.map(Date.init(pgValue:)), lastError: lastError,
            reply: reply, sentAt: sentAt.map(Date.init(pgValue:)))
    }

    static let overrideColumns = "business, kind, platforms, reason, set_by, set_at, expires_at"

    static func override(_ row: PostgresRow) throws -> OverrideRecord {
        let (business, kind, platforms, reason, setBy, setAt, expiresAt) =
            try row.decode((String, String, String, String, String, Double, Double?).self)
        return OverrideRecord(business: BusinessID(business), kind: try value(OverrideKind(rawValue: kind), "kind", kind),
                              platforms: try platformList(platforms), reason: reason, setBy: setBy,
                              setAt: Date(pgValue: setAt), expiresAt: expiresAt.map(Date.init(pgValue:)))
    }

    static let auditColumns = "at, actor, action, business, incident, detail"

    static func audit(_ row: PostgresRow) throws -> AuditEntry {
        let (at, actor, action, business, incident, detail) =
            try row.decode((Double, String, String, String?, Int64?, String).self)
        return AuditEntry(at: Date(pgValue: at), actor: actor, action: action, business: business.map { BusinessID($0) },
                          incident: incident, detail: detail)
    }

    static let transitionColumns = "platform, from_state, to_state, reason, at"

    static func transition(_ row: PostgresRow) throws -> StatusTransition {
        let (platform, from, to, reason, at) = try row.decode((String, String, String, String, Double).self)
        return StatusTransition(platform: PlatformID(platform), from: try value(PlatformState(rawValue: from), "from_state", from),
                                to: try value(PlatformState(rawValue: to), "to_state", to), reason: reason, at: Date(pgValue: at))
    }

    /// A list of platforms as stored: a JSON array of ids.
    static func platformText(_ platforms: [PlatformID]) -> String {
        let data = (try? JSONEncoder().encode(platforms.map(\.rawValue))) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func platformList(_ text: String) throws -> [PlatformID] {
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8)).map { PlatformID($0) }
        } catch {
            throw StoreError(.unavailable, "a stored platform list is not a JSON array of ids: \(text.prefix(80))")
        }
    }

    private static func value<T>(_ value: T?, _ column: String, _ raw: String) throws -> T {
        guard let value else { throw StoreError(.unavailable, "unknown \(column) '\(raw)' in the store") }
        return value
    }
}
