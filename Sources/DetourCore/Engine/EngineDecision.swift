/// What the engine asks the daemon to do for one business after a tick or a reload.
public enum EngineDecision: Sendable, Hashable {
    /// Open a new incident (origin probes).
    case open(BusinessID, platforms: [PlatformID], reason: String)
    /// The platforms failed again within the cooldown after `incident` was resolved: the same incident goes on.
    case reopen(BusinessID, incident: Int64, platforms: [PlatformID], reason: String)
    /// Send the all-clear and clear the banner.
    case resolve(BusinessID, incident: Int64, reason: String)

    /// The business the decision is about.
    public var business: BusinessID {
        switch self {
        case .open(let business, _, _), .reopen(let business, _, _, _), .resolve(let business, _, _): business
        }
    }

    /// The text a person reads: why the incident opens, goes on or ends.
    public var reason: String {
        switch self {
        case .open(_, _, let reason), .reopen(_, _, _, let reason), .resolve(_, _, let reason): reason
        }
    }
}
