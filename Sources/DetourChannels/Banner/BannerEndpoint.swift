import Crypto
import DetourCore
import Foundation

/// An HTTP answer from `BannerEndpoint`, for whatever server framework carries it.
public struct BannerHTTPResponse: Sendable, Hashable {
    public var status: Int
    /// Header names as written here (`Content-Type`, `ETag`, …); one value each.
    public var headers: [String: String]
    /// Empty for 304, HEAD and OPTIONS.
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status; self.headers = headers; self.body = body
    }
}

/// Serves `banner.json` and `banner.js` from `BannerState` for `/banner/BUSINESS.json` and
/// `/banner/BUSINESS.js`, so a site can embed the banner straight from the daemon, and the event
/// stream `/banner/BUSINESS/events` that tells an open page of each change (`events(…)`).
///
/// Answers carry a strong `ETag` (a hash of the body) and honour `If-None-Match` with 304, are
/// cacheable for a short time (`max-age=30`; `banner.js` revalidates on every poll), and allow any
/// origin to read them (pages on the business's own domain fetch them cross-origin).
/// Framework-agnostic: the daemon's HTTP listener maps requests and responses.
public struct BannerEndpoint: Sendable {
    /// Which of the two files is asked for.
    public enum File: String, Sendable, Hashable, CaseIterable {
        case json, js
        var contentType: String {
            switch self {
            case .json: "application/json; charset=utf-8"
            case .js: "text/javascript; charset=utf-8"
            }
        }
    }

    /// Where the daemon mounts the endpoint.
    public static let pathPrefix = "/banner/"
    public static let cacheControl = "public, max-age=30"

    public let state: BannerState

    public init(state: BannerState) { self.state = state }

    /// Splits `/banner/rosies-bakery.json` into the business and the file. Nil for anything else,
    /// including ids that are not lowercase slugs (so no `..`, `/`, `%2F` or upper case get through).
    public static func route(_ path: String) -> (business: String, file: File)? {
        guard path.hasPrefix(pathPrefix) else { return nil }
        let name = path.dropFirst(pathPrefix.count)
        guard let dot = name.lastIndex(of: "."), let file = File(rawValue: String(name[name.index(after: dot)...])) else { return nil }
        let business = String(name[..<dot])
        return Slug.isValid(business) ? (business, file) : nil
    }

    /// Answers a request for `path` (which `route` must accept, else 404).
    public func respond(path: String, ifNoneMatch: String?, method: String) async -> BannerHTTPResponse {
        guard let (business, file) = Self.route(path) else {
            return Self.plain(404, "Not found.\n")
        }
        return await respond(business: business, file: file, ifNoneMatch: ifNoneMatch, method: method)
    }

    /// Answers a request for one business's `banner.json` or `banner.js`.
    ///
    /// 200 with the body (GET) or just the headers (HEAD); 304 when `ifNoneMatch` names the current
    /// ETag; 204 to a CORS preflight (OPTIONS); 400 for an id that is not a slug; 404 for a business
    /// without a banner channel; 405 for other methods.
    public func respond(business: String, file: File, ifNoneMatch: String?, method: String) async -> BannerHTTPResponse {
        let verb = method.uppercased()
        if verb == "OPTIONS" {
            var headers = Self.corsHeaders
            headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            headers["Access-Control-Max-Age"] = "86400"
            headers["Allow"] = "GET, HEAD, OPTIONS"
            return BannerHTTPResponse(status: 204, headers: headers, body: Data())
        }
        guard verb == "GET" || verb == "HEAD" else {
            var response = Self.plain(405, "Method not allowed.\n")
            response.headers["Allow"] = "GET, HEAD, OPTIONS"
            return response
        }
        guard Slug.isValid(business) else { return Self.plain(400, "Not a business id.\n") }
        guard let entry = await state.entry(for: business) else { return Self.plain(404, "No banner for this business.\n") }

        let body = file == .json ? entry.json : state.script
        let etag = Self.etag(body)
        var headers = Self.corsHeaders
        headers["ETag"] = etag
        headers["Cache-Control"] = Self.cacheControl
        headers["Vary"] = "Origin"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        if let ifNoneMatch, Self.matches(ifNoneMatch, etag) {
            return BannerHTTPResponse(status: 304, headers: headers, body: Data())
        }
        headers["Content-Type"] = file.contentType
        headers["Content-Length"] = String(body.count)
        return BannerHTTPResponse(status: 200, headers: headers, body: verb == "HEAD" ? Data() : body)
    }

    /// A strong validator: the first 128 bits of the body's SHA-256, quoted.
    public static func etag(_ body: Data) -> String {
        let hex = SHA256.hash(data: body).prefix(16).lowercaseHex
        return "\"\(hex)\""
    }

    /// `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`; `*` matches anything.
    static func matches(_ header: String, _ etag: String) -> Bool {
        for raw in header.split(separator: ",") {
            var tag = raw.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag == etag { return true }
        }
        return false
    }

    private static let corsHeaders: [String: String] = ["Access-Control-Allow-Origin": "*"]

    static func plain(_ status: Int, _ text: String) -> BannerHTTPResponse {
        var headers = corsHeaders
        headers["Content-Type"] = "text/plain; charset=utf-8"
        headers["Cache-Control"] = "no-store"
        headers["X-Content-Type-Options"] = "nosniff"
        return BannerHTTPResponse(status: status, headers: headers, body: Data(text.utf8))
    }
}
