import DetourCore
import Foundation

/// Refuses webhook targets that point inside the host's own network when they should not:
/// link-local and cloud metadata addresses always; loopback and private ranges unless allowed.
///
/// This looks at literal addresses and well-known names in the URL; the channel checks the
/// address it actually connects to as well (a name can resolve anywhere).
public enum WebhookTarget {
    public struct Problem: Sendable { public let message: String; public let hint: String }

    static let metadataNames: Set<String> = ["metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"]

    public static func check(_ url: String, allowPrivate: Bool) -> Problem? {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let rawHost = c.host, !rawHost.isEmpty else {
            return Problem(message: "webhook URL \(URLCheck.redact(url)) is not an http(s) URL", hint: "write a full https:// URL")
        }
        let host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if metadataNames.contains(host) {
            return Problem(message: "webhook target \(host) is a cloud metadata service and is refused", hint: "point the webhook at your own endpoint")
        }
        switch classify(address: host) {
        case .linkLocal:
            return Problem(message: "webhook target \(host) is a link-local or metadata address and is refused", hint: "point the webhook at your own endpoint")
        case .loopback, .privateRange:
            if !allowPrivate {
                return Problem(message: "webhook target \(host) is a loopback or private address",
                               hint: "set webhooks: allow_private_targets: true in detour.yaml if this receiver is on your own network")
            }
        case .public, .name:
            if host == "localhost" || host.hasSuffix(".localhost"), !allowPrivate {
                return Problem(message: "webhook target \(host) is this machine",
                               hint: "set webhooks: allow_private_targets: true in detour.yaml if this receiver is on your own network")
            }
        }
        return nil
    }

    public enum AddressClass: Sendable { case loopback, privateRange, linkLocal, `public`, name }

    /// Classifies a literal IPv4/IPv6 address (by `NetworkAddress`); anything else is a `.name`.
    /// Metadata addresses count as link-local: both are always refused.
    public static func classify(address: String) -> AddressClass {
        switch NetworkAddress.classify(address) {
        case .loopback: return .loopback
        case .privateRange: return .privateRange
        case .linkLocal, .metadata: return .linkLocal
        case .public: return .public
        case .unparsable: return .name
        }
    }
}
