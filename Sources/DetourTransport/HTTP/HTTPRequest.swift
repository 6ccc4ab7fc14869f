import Foundation

/// One HTTP(S) request for `CurlHTTPClient`: what to send, and the limits the transfer must
/// stay within. Defaults are safe for talking to the outside world: TLS verified, bounded time
/// and size, redirects not followed.
public struct HTTPRequest: Sendable {
    /// The full URL. Only http and https are allowed.
    public var url: String
    /// The request method, upper case ("GET", "POST", "HEAD", ...).
    public var method: String
    public var headers: HTTPHeaders
    /// The request body; nil sends none.
    public var body: Data?
    /// The limit for the whole transfer, redirects included.
    public var timeout: Duration
    /// The limit for establishing the connection (name lookup, TCP and TLS).
    public var connectTimeout: Duration
    /// Follow up to `maxRedirects` redirects (http and https only).
    public var followRedirects: Bool
    public var maxRedirects: Int
    /// Verify the server's certificate and host name. Turn off only when a policy says so.
    public var verifyTLS: Bool
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// The most body bytes kept; a longer body is cut there and the response marked `truncated`.
    public var maxResponseBytes: Int
    /// Called with the IP address actually connected to, before the request is sent; returning
    /// false aborts the request with `.refusedAddress`. Checked again on every redirect hop.
    public var allowAddress: (@Sendable (String) -> Bool)?

    public init(
        url: String,
        method: String = "GET",
        headers: HTTPHeaders = HTTPHeaders(),
        body: Data? = nil,
        timeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        followRedirects: Bool = false,
        maxRedirects: Int = 5,
        verifyTLS: Bool = true,
        caFile: String? = nil,
        maxResponseBytes: Int = 1 << 20,
        allowAddress: (@Sendable (String) -> Bool)? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.followRedirects = followRedirects
        self.maxRedirects = maxRedirects
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.maxResponseBytes = maxResponseBytes
        self.allowAddress = allowAddress
    }

    /// Why this request cannot be sent as written, or nil when it can.
    func problem() -> String? {
        guard let endpoint = Endpoint(url), endpoint.scheme == "http" || endpoint.scheme == "https" else {
            return "only http and https URLs are allowed"
        }
        if method.isEmpty || method.contains(where: { !($0.isLetter && $0.isASCII) }) {
            return "the method is not a plain word"
        }
        for (name, value) in headers {
            if name.isEmpty || name.contains(where: { $0 == ":" || $0.isWhitespace || $0.isNewline }) {
                return "a header name is empty or contains ':' or spaces"
            }
            if value.contains(where: \.isNewline) {
                return "header \(name) contains a line break"
            }
        }
        if timeout <= .zero || connectTimeout <= .zero { return "timeouts must be positive" }
        if maxResponseBytes < 0 || maxRedirects < 0 { return "limits must not be negative" }
        return nil
    }
}
