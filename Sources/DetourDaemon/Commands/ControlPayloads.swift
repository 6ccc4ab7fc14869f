import DetourCore
import DetourStore
import Foundation

/// `detour status`: what the daemon believes and does right now.
public struct StatusReport: Sendable, Hashable, Codable {
    public struct Daemon: Sendable, Hashable, Codable {
        public var version: String
        public var pid: Int32
        public var startedAt: Date
        public var config: String
        public var state: String
        public var http: String
        public var owner: String
    }
    public struct Platform: Sendable, Hashable, Codable {
        public var platform: String
        public var name: String
        public var state: String
        public var reason: String
        public var since: Date
        /// For the operator: probes whose access token is refused (`TOKEN REFUSED: graph 1065…: …`) and
        /// status feeds that do not publish their component (`NOT IN FEED: status feed …: …`).
        public var alerts: [String]? = nil
    }
    public struct Business: Sendable, Hashable, Codable {
        public var business: String
        public var name: String
        /// The open incident, if any.
        public var incident: IncidentRecord?
        /// The hold in force, if any.
        public var hold: OverrideRecord?
        /// Failed over by hand.
        public var manual: OverrideRecord?
        /// Why it is (not) failing over, in a sentence.
        public var explanation: String
    }
    public var daemon: Daemon
    public var platforms: [Platform]
    /// Businesses with an open incident or a hold (the quiet ones are counted, not listed).
    public var businesses: [Business]
    public var quietBusinesses: Int
    public var queue: [String: Int]
    public var lastReload: ReloadReport
    /// Webhooks that answered HTTP 410 Gone: nothing more is sent to them until a reload changes their policy.
    public var disabledWebhooks: [DisabledWebhook]? = nil
    /// On a cluster (PostgreSQL): this node, the leader and every node's last heartbeat; nil on SQLite.
    public var cluster: Cluster? = nil

    public struct Cluster: Sendable, Codable, Hashable {
        /// This node's name.
        public var node: String
        /// Whether this node leads (decides).
        public var leads: Bool
        /// The node holding the leader lease, its term and when the lease ends; nil before any node led.
        public var leader: String?
        public var term: Int64?
        public var leaseExpiresAt: Date?
        public var nodes: [Node]
        /// Each node's own view of each platform, as the vote last read them.
        public var views: [NodeView]?
        /// How many nodes must see a platform down; nil for a majority of those that can tell.
        public var quorum: Int?
        /// Why this node cannot reach the database now; nil when it can.
        public var database: String?

        public struct Node: Sendable, Codable, Hashable {
            public var name: String
            public var startedAt: Date
            public var lastHeartbeat: Date
        }
    }

    /// A webhook switched off after its receiver said it is gone for good.
    public struct DisabledWebhook: Sendable, Codable, Hashable {
        public var business: String
        public var webhook: String
        public var since: Date
        /// What the receiver answered.
        public var reason: String
    }
}

/// A manual action's answer as `--json` prints it: `{"message": "…"}`.
public struct ActionResult: Sendable, Codable {
    public var message: String
    public init(message: String) { self.message = message }
}

/// A command that cannot be carried out, with what to do about it.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?
    public init(message: String, hint: String? = nil) { self.message = message; self.hint = hint }
    public var description: String { message }

    static func unknownBusiness(_ business: BusinessID, known: [BusinessID]) -> CommandError {
        CommandError(message: "no business '\(business)' in the running configuration",
                     hint: known.isEmpty ? "the policies directory is empty" : "known businesses: \(known.map(\.rawValue).joined(separator: ", "))")
    }
}

/// The JSON the CLI prints with `--json` (ISO 8601 dates, sorted keys, indented).
public enum ControlJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}
