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

    /// Classifies a literal IPv4/IPv6 address; anything else is a `.name`.
    public static func classify(address: String) -> AddressClass {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            let b = withUnsafeBytes(of: v4.s_addr) { Array($0) }
            switch (b[0], b[1]) {
            case (127, _), (0, _): return .loopback
            case (10, _), (172, 16...31), (192, 168), (100, 64...127): return .privateRange
            case (169, 254): return .linkLocal
            default: return .public
            }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            let b = withUnsafeBytes(of: v6) { Array($0) }
            if b[0..<15].allSatisfy({ $0 == 0 }) && (b[15] == 1 || b[15] == 0) { return .loopback }
            if b[0] == 0xfe && (b[1] & 0xc0) == 0x80 { return .linkLocal }
            if b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2 { return .linkLocal } // AWS IMDS over IPv6 (fd00:ec2::254)
            if (b[0] & 0xfe) == 0xfc { return .privateRange }
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {
                return classify(address: "\(b[12]).\(b[13]).\(b[14]).\(b[15])")
            }
            return .public
        }
        return .name
    }
}
