import DetourCore
import struct Foundation.Data

/// The one thing HTTP probes and status feeds need from an HTTP client: fetch a URL within a timeout.
///
/// The libcurl client in DetourTransport satisfies it in production; anything that speaks HTTP can
/// stand in. A fetch never throws: a failed request is a `ProbeHTTPOutcome.failure`.
public protocol ProbeHTTPFetcher: Sendable {
    func fetch(_ request: ProbeHTTPRequest) async -> ProbeHTTPOutcome
}

/// A request a probe makes: where, how, and the limits the client must keep.
public struct ProbeHTTPRequest: Sendable, Hashable {
    public var url: String
    public var method: String
    public var headers: [String: String]
    /// The whole request, connect to last byte, must finish within this.
    public var timeout: TimeSpan
    public var followRedirects: Bool
    public var verifyTLS: Bool
    /// Read at most this many body bytes; the rest is dropped and `truncated` set.
    public var maxBytes: Int

    public init(url: String, method: String = "GET", headers: [String: String] = [:], timeout: TimeSpan,
                followRedirects: Bool = true, verifyTLS: Bool = true, maxBytes: Int = ProbeHTTPRequest.defaultMaxBytes) {
        self.url = url; self.method = method; self.headers = headers; self.timeout = timeout
        self.followRedirects = followRedirects; self.verifyTLS = verifyTLS; self.maxBytes = maxBytes
    }

    /// 2 MiB: enough for a login page or a status feed, small enough to keep many probes cheap.
    public static let defaultMaxBytes = 2 * 1024 * 1024
}

/// What came back from a `ProbeHTTPRequest`.
public enum ProbeHTTPOutcome: Sendable, Hashable {
    case response(ProbeHTTPResponse)
    case failure(ProbeHTTPFailure)
}

/// An HTTP answer, whatever its status.
public struct ProbeHTTPResponse: Sendable, Hashable {
    public var status: Int
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: Data
    /// True when the body was cut at `maxBytes`.
    public var truncated: Bool
    public var timings: PhaseTimings

    public init(status: Int, headers: [String: String] = [:], body: Data, truncated: Bool = false, timings: PhaseTimings) {
        self.status = status; self.headers = headers; self.body = body; self.truncated = truncated; self.timings = timings
    }
}

/// Why a request got no HTTP answer, in the phase where it stopped.
public struct ProbeHTTPFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The phase a request failed in.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The request's timeout passed.
        public static let timeout = Kind(rawValue: "timeout")
        /// The host name did not resolve.
        public static let dns = Kind(rawValue: "dns")
        /// No TCP connection: refused, unreachable.
        public static let connect = Kind(rawValue: "connect")
        /// TLS handshake or certificate verification failed.
        public static let tls = Kind(rawValue: "tls")
        /// Anything else: a broken reply, a reset connection.
        public static let other = Kind(rawValue: "other")
        public var description: String { rawValue }
    }

    public var kind: Kind
    /// What went wrong, in the client's words (no secrets: no request headers).
    public var message: String
    /// Timings up to the failure, when the client has them.
    public var timings: PhaseTimings?

    public init(kind: Kind, message: String, timings: PhaseTimings? = nil) {
        self.kind = kind; self.message = message; self.timings = timings
    }

    public var description: String { "\(kind): \(message)" }
}
