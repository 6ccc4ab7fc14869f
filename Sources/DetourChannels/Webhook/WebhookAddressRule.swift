import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Decides whether a webhook may talk to the IP address it actually connected to.
///
/// The configuration loader checks the URL as written (`DetourConfig.WebhookTarget`); a host name
/// can still resolve anywhere, so the sender checks the connected address too, with the same rules:
/// link-local and cloud metadata addresses are always refused, loopback and private ranges unless
/// `allowPrivateTargets`. An address that cannot be parsed is refused.
///
/// The classification repeats `DetourConfig.WebhookTarget.classify(address:)`, which DetourChannels
/// cannot import; both belong in DetourCore.
public struct WebhookAddressRule: Sendable, Hashable {
    public var allowPrivateTargets: Bool

    public init(allowPrivateTargets: Bool) { self.allowPrivateTargets = allowPrivateTargets }

    /// What kind of network an address belongs to.
    public enum AddressClass: Sendable, Hashable {
        case loopback, privateRange, linkLocal, metadata, `public`, unparsable
    }

    /// True when a request may be sent to `ip` (as libcurl reports it: `127.0.0.1`, `::1`, `fe80::1%eth0`).
    public func allows(_ ip: String) -> Bool {
        switch Self.classify(ip) {
        case .public: return true
        case .loopback, .privateRange: return allowPrivateTargets
        case .linkLocal, .metadata, .unparsable: return false
        }
    }

    /// Classifies a literal IPv4 or IPv6 address.
    public static func classify(_ raw: String) -> AddressClass {
        var text = raw.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) } // IPv6 zone id
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return classify(v4: withUnsafeBytes(of: v4.s_addr) { Array($0) })
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return .unparsable }
        let b = withUnsafeBytes(of: v6) { Array($0) }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {
            return classify(v4: Array(b[12..<16])) // IPv4-mapped
        }
        if b[0..<15].allSatisfy({ $0 == 0 }) && (b[15] == 1 || b[15] == 0) { return .loopback }
        // AWS instance metadata over IPv6: fd00:ec2::254.
        if b == [0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54] { return .metadata }
        if b[0] == 0xfe && (b[1] & 0xc0) == 0x80 { return .linkLocal }
        if (b[0] & 0xfe) == 0xfc { return .privateRange }
        return .public
    }

    private static func classify(v4 b: [UInt8]) -> AddressClass {
        // 169.254.169.254: AWS, GCP, Azure, OpenStack; 100.100.100.200: Alibaba Cloud.
        if b == [169, 254, 169, 254] || b == [100, 100, 100, 200] { return .metadata }
        switch (b[0], b[1]) {
        case (127, _), (0, _): return .loopback
        case (10, _), (172, 16...31), (192, 168), (100, 64...127): return .privateRange
        case (169, 254): return .linkLocal
        default: return .public
        }
    }
}
