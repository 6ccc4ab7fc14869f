import Foundation

/// Reduces a URL to `scheme://host:port/` so it can go into errors and logs: paths, query
/// strings, fragments and credentials often carry secrets (tokens, signed links) and are dropped.
/// An unparsable URL becomes `<invalid url>`.
public func redactedURL(_ url: String) -> String {
    guard let endpoint = Endpoint(url) else { return "<invalid url>" }
    return "\(endpoint.scheme)://\(endpoint.hostPort)/"
}

/// The scheme, host and port of a URL: the only parts of it Detour ever prints.
struct Endpoint: Sendable, Equatable {
    let scheme: String
    let host: String
    let port: Int?

    init?(_ url: String) {
        guard let parts = URLComponents(string: url),
              let scheme = parts.scheme?.lowercased(), !scheme.isEmpty,
              let host = parts.host, !host.isEmpty else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = parts.port ?? Endpoint.defaultPorts[scheme]
    }

    /// `host:port`, with IPv6 hosts in brackets; just the host when no port is known.
    var hostPort: String {
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let port else { return shownHost }
        return "\(shownHost):\(port)"
    }

    private static let defaultPorts: [String: Int] = [
        "http": 80, "https": 443, "smtp": 25, "smtps": 465,
    ]
}
