/// Which moment of an incident a delivery carries: customers are told where to go (`opened`, also
/// when a recent incident is reopened), or that the platform is back (`resolved`).
public enum IncidentEvent: String, Sendable, Hashable, Codable {
    case opened, resolved
}
