import DetourCore
import DetourStore
import Foundation

/// The arguments of `detour failover start`.
public struct FailoverStart: Sendable, Hashable, Codable {
    public var business: BusinessID
    /// The platforms that are down; empty means every platform the policy depends on.
    public var platforms: [PlatformID]
    /// Why, for the incident and the audit log.
    public var reason: String
    /// Open a new incident even within the cooldown of the last one.
    public var newIncident: Bool

    public init(business: BusinessID, platforms: [PlatformID] = [], reason: String, newIncident: Bool = false) {
        self.business = business; self.platforms = platforms; self.reason = reason; self.newIncident = newIncident
    }

    /// `platforms` and `newIncident` may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        business = try c.decode(BusinessID.self, forKey: .business)
        platforms = try c.decodeIfPresent([PlatformID].self, forKey: .platforms) ?? []
        reason = try c.decode(String.self, forKey: .reason)
        newIncident = try c.decodeIfPresent(Bool.self, forKey: .newIncident) ?? false
    }
}

/// The arguments of `detour hold`.
public struct Hold: Sendable, Hashable, Codable {
    public var business: BusinessID
    /// Why, for the audit log.
    public var reason: String
    /// How long the hold lasts, in seconds from when the daemon receives it; nil holds until
    /// `detour release`. The CLI has parsed and checked `--for`; the daemon checks the range again.
    public var seconds: Double?

    public init(business: BusinessID, reason: String, seconds: Double? = nil) {
        self.business = business; self.reason = reason; self.seconds = seconds
    }

    /// The longest hold: a year. Longer is a typo, or `detour release` is what is meant.
    public static let longest = TimeSpan(milliseconds: 366 * 86_400_000)
}

/// Which deliveries `detour deliveries retry` requeues. On the wire `{"ids": [41, 42]}`, or
/// `{"dead": true}` with an optional `"business"`.
public enum RetrySelection: Sendable, Hashable, Codable {
    /// These deliveries, by id.
    case ids([Int64])
    /// Every dead delivery, of one business when given.
    case dead(business: BusinessID?)

    private enum CodingKeys: String, CodingKey {
        case ids, dead, business
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if try container.decodeIfPresent(Bool.self, forKey: .dead) == true {
            self = .dead(business: try container.decodeIfPresent(BusinessID.self, forKey: .business))
        } else {
            self = .ids(try container.decode([Int64].self, forKey: .ids))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .ids(let ids):
            try container.encode(ids, forKey: .ids)
        case .dead(let business):
            try container.encode(true, forKey: .dead)
            try container.encodeIfPresent(business, forKey: .business)
        }
    }
}

/// The filter of `detour audit`.
public struct AuditQuery: Sendable, Hashable, Codable {
    public var business: BusinessID?
    /// At most this many, newest first.
    public var limit: Int

    public init(business: BusinessID? = nil, limit: Int = 50) {
        self.business = business; self.limit = limit
    }

    /// Every key may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(business: try c.decodeIfPresent(BusinessID.self, forKey: .business),
                  limit: try c.decodeIfPresent(Int.self, forKey: .limit) ?? 50)
    }
}
