import DetourCore

/// Decides whether a webhook may talk to the IP address it actually connected to.
///
/// The configuration loader checks the URL as written (`DetourConfig.WebhookTarget`); a host name
/// can still resolve anywhere, so the sender checks the connected address too, with the same rules:
/// link-local and cloud metadata addresses are always refused, loopback and private ranges unless
/// `allowPrivateTargets`. An address that cannot be parsed is refused.
public struct WebhookAddressRule: Sendable, Hashable {
    public var allowPrivateTargets: Bool

    public init(allowPrivateTargets: Bool) { self.allowPrivateTargets = allowPrivateTargets }

    /// What kind of network an address belongs to.
    public typealias AddressClass = NetworkAddress.Class

    /// True when a request may be sent to `ip` (as libcurl reports it: `127.0.0.1`, `::1`, `fe80::1%eth0`).
    public func allows(_ ip: String) -> Bool {
        switch Self.classify(ip) {
        case .public: return true
        case .loopback, .privateRange: return allowPrivateTargets
        case .linkLocal, .metadata, .unparsable: return false
        }
    }

    /// Classifies a literal IPv4 or IPv6 address.
    public static func classify(_ raw: String) -> AddressClass { NetworkAddress.classify(raw) }
}
