import Foundation

/// What came back from one HTTP(S) request: the final response after any redirects followed.
public struct HTTPResponse: Sendable {
    /// The HTTP status code (200, 503, ...).
    public var status: Int
    /// The final response's header fields.
    public var headers: HTTPHeaders
    /// The body, at most `HTTPRequest.maxResponseBytes` long.
    public var body: Data
    /// True when the body was longer than the cap and was cut.
    public var truncated: Bool
    /// The IP address of the server that answered, when known.
    public var primaryIP: String?
    /// How long each phase took.
    public var timings: TransferTimings
    /// How many redirects were followed.
    public var redirectCount: Int

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data(), truncated: Bool = false,
                primaryIP: String? = nil, timings: TransferTimings = TransferTimings(), redirectCount: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated
        self.primaryIP = primaryIP
        self.timings = timings
        self.redirectCount = redirectCount
    }
}
