import Foundation

/// Where a PostgreSQL store lives, read from `state: postgres://…` the way libpq reads a
/// connection URI: `postgres://USER@HOST:PORT/DATABASE?sslmode=MODE`, or a unix-socket directory
/// in `?host=/path`. The password never goes in the URL: it comes from `password` (the caller reads
/// it from `password_file:`, `env:` or `credential:`), and nothing here prints it.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How TLS is used, as libpq's `sslmode` names it. Detour's default is `verifyFull`.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unixSocket(directory: String, port: Int)
    }

    public var endpoint: Endpoint
    public var user: String
    public var database: String
    public var tls: TLSMode
    public var password: String?

    public init(endpoint: Endpoint, user: String, database: String, tls: TLSMode = .verifyFull, password: String? = nil) {
        self.endpoint = endpoint; self.user = user; self.database = database; self.tls = tls; self.password = password
    }

    /// Whether `text` names a PostgreSQL store (anything else is an SQLite file path).
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a connection URL; the error says what is wrong with it, without repeating it whole.
    public init(url text: String, password: String? = nil) throws(StoreError) {
        guard Self.isURL(text), let url = URLComponents(string: text) else {
            throw StoreError(.unavailable, "not a PostgreSQL URL: expected postgres://USER@HOST[:PORT]/DATABASE[?sslmode=verify-full]")
        }
        if url.password != nil {
            throw StoreError(.unavailable, "the PostgreSQL URL has a password in it; remove it and give it with "
                             + "password_file:, password: env:NAME or password: credential:NAME")
        }
        guard let user = url.user, !user.isEmpty else {
            throw StoreError(.unavailable, "the PostgreSQL URL names no user: postgres://USER@HOST/DATABASE")
        }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !path.isEmpty, !path.contains("/") else {
            throw StoreError(.unavailable, "the PostgreSQL URL names no database: postgres://USER@HOST/DATABASE")
        }
        var tls = TLSMode.verifyFull
        var socketDirectory: String?
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    let known = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw StoreError(.unavailable, "sslmode=\(item.value ?? "") in the PostgreSQL URL: use one of \(known)")
                }
                tls = mode
            case "host":
                guard let value = item.value, value.hasPrefix("/") else {
                    throw StoreError(.unavailable, "host= in the PostgreSQL URL must be a unix-socket directory (an absolute path)")
                }
                socketDirectory = value
            default:
                throw StoreError(.unavailable, "\(item.name)= in the PostgreSQL URL is not supported (only sslmode and host)")
            }
        }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw StoreError(.unavailable, "port \(port) in the PostgreSQL URL is out of range") }
        if let socketDirectory {
            endpoint = .unixSocket(directory: socketDirectory, port: port)
            // No TLS over a unix socket, as libpq.
            if tls != .disable { tls = .disable }
        } else {
            guard let host = url.host, !host.isEmpty else {
                throw StoreError(.unavailable, "the PostgreSQL URL names no host: postgres://USER@HOST/DATABASE")
            }
            endpoint = .tcp(host: host, port: port)
        }
        self.user = user.removingPercentEncoding ?? user
        self.database = path.removingPercentEncoding ?? path
        self.tls = tls
        self.password = password
    }

    /// The URL without any secret, for errors, logs and `detour status`.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port):
            let shown = host.contains(":") ? "[\(host)]" : host
            return "postgres://\(user)@\(shown):\(port)/\(database)?sslmode=\(tls.rawValue)"
        case .unixSocket(let directory, let port):
            return "postgres://\(user)@/\(database)?host=\(directory) (port \(port))"
        }
    }
}
