import CCurl

/// Why an HTTP(S) request failed before a complete response arrived. The `message` is written
/// for people and names only `scheme://host:port/` of the URL, never its path or query.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this was; compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ name: String) { description = name }

        /// The total or connect timeout passed.
        public static let timeout = Code("timeout")
        /// The host name could not be resolved.
        public static let dnsFailure = Code("dnsFailure")
        /// No TCP connection could be made (refused, unreachable).
        public static let connectFailure = Code("connectFailure")
        /// The TLS handshake or certificate verification failed.
        public static let tlsFailure = Code("tlsFailure")
        /// `allowAddress` refused the address connected to.
        public static let refusedAddress = Code("refusedAddress")
        /// The response headers exceeded what libcurl accepts.
        public static let tooLarge = Code("tooLarge")
        /// More redirects than `maxRedirects`.
        public static let tooManyRedirects = Code("tooManyRedirects")
        /// The connection broke or the server sent nothing or garbage.
        public static let connectionLost = Code("connectionLost")
        /// The request itself is invalid (bad URL, scheme, header).
        public static let invalidRequest = Code("invalidRequest")
        /// The calling task was cancelled, or the client shut down.
        public static let cancelled = Code("cancelled")
        /// Anything else; see `curlMessage`.
        public static let other = Code("other")
    }

    public var code: Code
    /// libcurl's own text for the failure (empty when libcurl was not involved).
    public var curlMessage: String
    /// A sentence for people, e.g. "timed out after 10s connecting to http://127.0.0.1:8080/".
    public var message: String

    public init(code: Code, curlMessage: String = "", message: String) {
        self.code = code
        self.curlMessage = curlMessage
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// The code for a libcurl result.
    static func code(for result: CURLcode) -> Code {
        switch result {
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .dnsFailure
        case CURLE_COULDNT_CONNECT: .connectFailure
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE,
             CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_SHUTDOWN_FAILED,
             CURLE_USE_SSL_FAILED:
            .tlsFailure
        case CURLE_TOO_MANY_REDIRECTS: .tooManyRedirects
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE,
             CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_HTTP3:
            .connectionLost
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
        case CURLE_FILESIZE_EXCEEDED, CURLE_OUT_OF_MEMORY: .tooLarge
        default: .other
        }
    }
}
