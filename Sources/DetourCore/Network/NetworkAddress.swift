#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which kind of network a literal IP address belongs to: what webhook targets are judged by,
/// both as written in a policy and as actually connected to.
public enum NetworkAddress {
    public enum Class: Sendable, Hashable {
        case loopback, privateRange, linkLocal
        /// A cloud instance-metadata service (169.254.169.254, fd00:ec2::254, 100.100.100.200).
        case metadata
        case `public`
        /// Not a literal IPv4 or IPv6 address (a host name, or garbage).
        case unparsable
    }

    /// Classifies `raw` (`127.0.0.1`, `::1`, `[fe80::1%eth0]`); brackets and an IPv6 zone id are ignored.
    public static func classify(_ raw: String) -> Class {
        var text = Substring(raw)
        while let f = text.first, f == "[" || f == " " { text = text.dropFirst() }
        while let l = text.last, l == "]" || l == " " { text = text.dropLast() }
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(text), &v4) == 1 {
            return classify(v4: withUnsafeBytes(of: v4.s_addr) { Array($0) })
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, String(text), &v6) == 1 else { return .unparsable }
        let b = withUnsafeBytes(of: v6) { Array($0) }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {
            return classify(v4: Array(b[12..<16])) // IPv4-mapped
        }
        if b[0..<15].allSatisfy({ $0 == 0 }) && (b[15] == 1 || b[15] == 0) { return .loopback }
        if b == [0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54] { return .metadata } // AWS over IPv6
        if b[0] == 0xfe && (b[1] & 0xc0) == 0x80 { return .linkLocal }
        if (b[0] & 0xfe) == 0xfc { return .privateRange }
        return .public
    }

    private static func classify(v4 b: [UInt8]) -> Class {
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
