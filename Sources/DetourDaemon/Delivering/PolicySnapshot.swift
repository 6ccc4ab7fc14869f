import DetourConfig
import DetourCore

/// The configuration the delivering side works from: an immutable copy taken at start and after
/// each reload, so sending never waits on the side that decides.
public struct PolicySnapshot: Sendable {
    /// The policies in force, by business.
    public var policies: [BusinessID: Policy]
    /// Policies of businesses removed while an incident was open: kept to send their all-clear.
    public var retired: [BusinessID: Policy]
    /// The daemon file as loaded (platform names, SMTP servers, webhook network settings).
    public var daemon: DaemonConfig

    public init(policies: [Policy], retired: [Policy], daemon: DaemonConfig) {
        self.policies = Dictionary(policies.map { ($0.business, $0) }, uniquingKeysWith: { a, _ in a })
        self.retired = Dictionary(retired.map { ($0.business, $0) }, uniquingKeysWith: { a, _ in a })
        for business in self.policies.keys { self.retired[business] = nil }
        self.daemon = daemon
    }

    /// The policy a delivery of `business` is made from: the one in force, else the retired one.
    public func policy(_ business: BusinessID) -> Policy? { policies[business] ?? retired[business] }

    /// Every policy channels are built for.
    public var all: [Policy] { Array(policies.values) + Array(retired.values) }
}
