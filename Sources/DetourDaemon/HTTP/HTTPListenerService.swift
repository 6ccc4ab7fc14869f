import DetourChannels
import DetourCore
import DetourProbes
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The daemon's HTTP listener (Hummingbird): what customers' browsers and the operator's
/// monitoring reach.
///
/// - `GET/HEAD/OPTIONS /banner/BUSINESS.json|.js`: the banner a site embeds (`BannerEndpoint`).
/// - `GET/OPTIONS /banner/BUSINESS/events`: server-sent events with each new banner (`BannerEventStream`).
/// - `GET /healthz`: 200 while the decision loop and the delivery loops turn (`Heartbeats`); 503
///   naming the stuck loop otherwise. `GET /readyz`: 200 once the daemon is ready, 503 before.
/// - `GET /metrics`: Prometheus text from `DetourMetrics`.
/// - `GET/POST /unsubscribe`: the signed links from emails (`UnsubscribeLinks`).
/// - `POST /signal/NAME/TOKEN`: a business's inbound-message handler saying a message arrived
///   (`SignalBoard`, read by silence probes); 204, or 404 for a NAME and TOKEN no probe expects.
///
/// Runs until graceful shutdown; give port 0 to bind any free port and learn it from `onServerRunning`.
public struct HTTPListenerService: Service {
    public let host: String
    public let port: Int
    private let banner: BannerEndpoint
    private let metrics: DetourMetrics
    private let readiness: @Sendable () async -> Bool
    private let stalls: @Sendable () -> [Heartbeats.Stall]
    private let trouble: @Sendable () -> String?
    private let unsubscribe: UnsubscribePage
    private let logger: Logger
    private let onServerRunning: (@Sendable (Int) async -> Void)?

    /// - Parameters:
    ///   - readiness: whether the daemon is ready to serve (config loaded, store open, probes started).
    ///   - stalls: the daemon loops that are stuck now; `/healthz` is 503 while there is one.
    ///   - trouble: why the daemon cannot do its work now though it runs (a cluster node whose
    ///     database does not answer); `/readyz` is 503 with it while there is one.
    ///   - unsubscribe: checks the links in unsubscribe requests.
    ///   - onUnsubscribe: records that an address left a business's audience; a throw becomes a 500
    ///     asking the customer to try again.
    ///   - onServerRunning: called with the port actually bound, once the listener accepts connections.
    public init(
        host: String,
        port: Int,
        banners: BannerState,
        metrics: DetourMetrics,
        readiness: @escaping @Sendable () async -> Bool,
        stalls: @escaping @Sendable () -> [Heartbeats.Stall] = { [] },
        trouble: @escaping @Sendable () -> String? = { nil },
        unsubscribe: UnsubscribeLinks,
        onUnsubscribe: @escaping @Sendable (BusinessID, String) async throws -> Void,
        logger: Logger,
        onServerRunning: (@Sendable (Int) async -> Void)? = nil
    ) {
        self.host = host
        self.port = port
        self.banner = BannerEndpoint(state: banners)
        self.metrics = metrics
        self.readiness = readiness
        self.stalls = stalls
        self.trouble = trouble
        self.unsubscribe = UnsubscribePage(links: unsubscribe, onUnsubscribe: onUnsubscribe, logger: logger)
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    public func run() async throws {
        let (port, onServerRunning, logger, host) = (self.port, self.onServerRunning, self.logger, self.host)
        let app = Application(
            router: makeRouter(),
            // A connection that sends nothing for a minute is closed, so idle clients cannot pile up.
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("HTTP listener running", metadata: ["http.host": "\(host)", "http.port": "\(bound)"])
                await onServerRunning?(bound)
            },
            logger: logger
        )
        try await app.run()
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let (banner, metrics, readiness, unsubscribe) = (self.banner, self.metrics, self.readiness, self.unsubscribe)

        for method in [HTTPRequest.Method.get, .head, .options] {
            router.on("/banner/{file}", method: method) { request, _ -> Response in
                let ifNoneMatch = request.headers[values: .ifNoneMatch]
                let answer = await banner.respond(path: request.uri.path,
                                                  ifNoneMatch: ifNoneMatch.isEmpty ? nil : ifNoneMatch.joined(separator: ", "),
                                                  method: request.method.rawValue)
                return Self.response(answer.status, answer.headers, answer.body)
            }
        }
        // Server-sent events telling an open page of each banner change; ends on graceful shutdown.
        for method in [HTTPRequest.Method.get, .options] {
            router.on("/banner/{file}/events", method: method) { request, context -> Response in
                let lastEventID = HTTPFields.Element.Name("Last-Event-ID").flatMap { request.headers[$0] }
                switch await banner.events(business: context.parameters.get("file") ?? "",
                                           method: request.method.rawValue, lastEventID: lastEventID) {
                case .response(let plain):
                    return Self.response(plain.status, plain.headers, plain.body)
                case .stream(let head, let stream):
                    var fields = HTTPFields()
                    for (name, value) in head.headers { if let name = HTTPFields.Element.Name(name) { fields[name] = value } }
                    return Response(status: .ok, headers: fields, body: ResponseBody { writer in
                        try await withGracefulShutdownHandler {
                            try await stream.run { data in try await writer.write(ByteBuffer(bytes: data)) }
                        } onGracefulShutdown: {
                            stream.stop()
                        }
                        try await writer.finish(nil)
                    })
                }
            }
        }
        let stalls = self.stalls
        router.get("/healthz") { _, _ in
            let stuck = stalls()
            return stuck.isEmpty ? Self.text(200, "ok\n")
                : Self.text(503, "stalled: " + stuck.map(\.description).joined(separator: "; ") + "\n")
        }
        let trouble = self.trouble
        router.get("/readyz") { _, _ in
            guard await readiness() else { return Self.text(503, "starting\n") }
            return trouble().map { Self.text(503, "not ready: \($0)\n") } ?? Self.text(200, "ready\n")
        }
        router.get("/metrics") { _, _ in
            Self.response(200, ["Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store"],
                          Data(metrics.render().utf8))
        }
        // The business's inbound-message handler: one call per message that arrived (silence probes).
        router.post("/signal/{name}/{token}") { _, context -> Response in
            let name = context.parameters.get("name") ?? "", token = context.parameters.get("token") ?? ""
            return SignalBoard.shared.signal(name: name, token: token) ? Self.text(204, "") : Self.text(404, "not found\n")
        }
        router.get("/unsubscribe") { request, _ in
            Self.response(unsubscribe.confirmationPage(query: Self.query(request)))
        }
        router.post("/unsubscribe") { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: UnsubscribePage.maxFormBytes)
            } catch {
                return Self.text(413, "The request body is too large.\n")
            }
            return Self.response(await unsubscribe.unsubscribe(query: Self.query(request), formBody: String(buffer: body)))
        }
        return router
    }

    // MARK: - Mapping to Hummingbird

    private static func query(_ request: Request) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in request.uri.queryParameters where values[String(name)] == nil {
            values[String(name)] = String(value)
        }
        return values
    }

    private static func text(_ status: Int, _ text: String) -> Response {
        response(status, ["Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"], Data(text.utf8))
    }

    private static func response(_ answer: UnsubscribePage.Answer) -> Response {
        var headers = UnsubscribePage.headers
        headers["Content-Type"] = answer.contentType
        return response(answer.status, headers, Data(answer.body.utf8))
    }

    private static func response(_ status: Int, _ headers: [String: String], _ body: Data) -> Response {
        var fields = HTTPFields()
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if let name = HTTPFields.Element.Name(name) { fields[name] = value }
        }
        var buffer = ByteBufferAllocator().buffer(capacity: body.count)
        buffer.writeBytes(body)
        return Response(status: HTTPResponse.Status(code: status), headers: fields, body: ResponseBody(byteBuffer: buffer))
    }
}
