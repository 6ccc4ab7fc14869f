import DetourCore
import Foundation

/// What `BannerEndpoint.events` answers: a plain response, or the head of an event stream and the
/// stream to write after it.
public enum BannerEventsAnswer: Sendable {
    case response(BannerHTTPResponse)
    /// 200: send `head` (status and headers; its body is empty), then run `stream`.
    case stream(head: BannerHTTPResponse, stream: BannerEventStream)
}

extension BannerEndpoint {
    /// The event stream's path for a business: `/banner/BUSINESS/events`.
    public static func eventsPath(_ business: String) -> String { "\(pathPrefix)\(business)/events" }

    /// The business in `/banner/BUSINESS/events`, or nil for any other path or an id that is not a slug.
    public static func eventsRoute(_ path: String) -> String? {
        guard path.hasPrefix(pathPrefix), path.hasSuffix("/events") else { return nil }
        let business = String(path.dropFirst(pathPrefix.count).dropLast("/events".count))
        return Slug.isValid(business) ? business : nil
    }

    /// Answers a request for a business's event stream (`BannerEventStream`): server-sent events
    /// with `banner.json` on each change.
    ///
    /// 200 with the stream to GET; 204 to a CORS preflight (OPTIONS); 400 for an id that is not a
    /// slug; 404 for a business without a banner; 405 for other methods; 503 with `Retry-After`
    /// when `streams.maxStreamsPerBusiness` streams of this business are open (`banner.js` then
    /// polls `banner.json`). `lastEventID` is the browser's `Last-Event-ID` on a reconnection.
    public func events(business: String, method: String, lastEventID: String?) async -> BannerEventsAnswer {
        let verb = method.uppercased()
        if verb == "OPTIONS" {
            var headers = ["Access-Control-Allow-Origin": "*"]
            headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
            headers["Access-Control-Allow-Headers"] = "Last-Event-ID, Cache-Control"
            headers["Access-Control-Max-Age"] = "86400"
            headers["Allow"] = "GET, OPTIONS"
            return .response(BannerHTTPResponse(status: 204, headers: headers, body: Data()))
        }
        guard verb == "GET" else {
            var response = Self.plain(405, "Method not allowed.\n")
            response.headers["Allow"] = "GET, OPTIONS"
            return .response(response)
        }
        guard Slug.isValid(business) else { return .response(Self.plain(400, "Not a business id.\n")) }
        switch await state.watch(business: business) {
        case .noBanner:
            return .response(Self.plain(404, "No banner for this business.\n"))
        case .full:
            var response = Self.plain(503, "Too many pages are following this banner; poll \(Self.pathPrefix)\(business).json instead.\n")
            response.headers["Retry-After"] = "300"
            return .response(response)
        case .watching(let watch):
            let headers = [
                "Access-Control-Allow-Origin": "*",
                "Content-Type": BannerEndpoint.eventStreamContentType,
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
                "X-Content-Type-Options": "nosniff",
                "Cross-Origin-Resource-Policy": "cross-origin",
            ]
            let stream = BannerEventStream(watch: watch, settings: state.streams, lastEventID: lastEventID)
            return .stream(head: BannerHTTPResponse(status: 200, headers: headers, body: Data()), stream: stream)
        }
    }

    public static let eventStreamContentType = "text/event-stream; charset=utf-8"
}
