/// How an incident came to be opened.
public enum IncidentOrigin: String, Sendable, Hashable, Codable {
    /// The probes saw the platforms down for longer than the grace.
    case probes
    /// An operator ran `detour failover start`.
    case manual
}
