import DetourChannels
import DetourCore
@testable import DetourDaemon
import DetourTransport
import Foundation
import Testing
import TestKit
#if canImport(Glibc)
import Glibc
#endif

/// `/banner/BUSINESS/events` on the real HTTP listener, read over a plain TCP connection on 127.0.0.1
/// as a browser's EventSource reads it: byte by byte as the daemon sends them.
@Suite struct BannerEventsTests {
    private static let links = UnsubscribeLinks(publicURL: "http://127.0.0.1", key: Array(repeating: 3, count: 32))
    private static let path = "/banner/rosies-bakery/events"

    /// Runs a listener serving `banners` on a free port while `body` runs with that port.
    private func withListener(_ banners: BannerState, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let listener = HTTPListenerService(
            host: "127.0.0.1", port: 0, banners: banners, metrics: DetourMetrics(), readiness: { true },
            unsubscribe: Self.links, onUnsubscribe: { _, _ in }, logger: InfraSupport.logger,
            onServerRunning: { continuation.yield($0) })
        try await InfraSupport.running([listener], limit: .seconds(30)) {
            try await body(try await InfraSupport.first(ports))
        }
    }

    private func entry(_ message: String, active: Bool = true, revision: UInt64) throws -> BannerState.Entry {
        let document = BannerDocument(
            business: .init(id: "rosies-bakery", name: "Rosie's Bakery"), active: active, event: active ? .opened : .resolved,
            incident: "inc-1", message: message, links: [], platforms: ["Instagram"], since: nil,
            updatedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(revision)),
            expiresAt: active ? Date(timeIntervalSince1970: 1_800_000_000) : nil)
        return BannerState.Entry(document: document, json: try document.encoded(), html: Data(), revision: revision)
    }

    private func state(_ settings: BannerStreamSettings) async throws -> BannerState {
        let banners = BannerState(streams: settings)
        await banners.store(try entry("Instagram DMs are down", revision: 1), for: "rosies-bakery")
        return banners
    }

    @Test func aChangedBannerReachesAnOpenStreamWithinASecond() async throws {
        let banners = try await state(BannerStreamSettings(heartbeat: .seconds(60)))
        try await withListener(banners) { port in
            let client = try EventStreamClient(port: port, path: Self.path)
            let opening = try await client.read(until: { $0.events.count == 1 })
            #expect(opening.status == 200)
            #expect(opening.headers["content-type"] == "text/event-stream; charset=utf-8")
            #expect(opening.headers["access-control-allow-origin"] == "*")
            #expect(opening.headers["cache-control"] == "no-store")
            #expect(opening.headers["x-accel-buffering"] == "no")
            #expect(opening.body.hasPrefix(": detour banner events\nretry: 5000\n\n"))
            let first = try #require(opening.events.first)
            #expect(first.type == "banner")
            #expect(first.data + "\n" == String(decoding: try #require(await banners.entry(for: "rosies-bakery")).json, as: UTF8.self),
                    "the data lines put together are banner.json")
            #expect(first.id == BannerEndpoint.etag(Data((first.data + "\n").utf8)), "the id is the ETag of /banner/BUSINESS.json")

            let changed = try entry("Instagram DMs are down. Call us!", revision: 2)
            let sent = ContinuousClock.now
            await banners.store(changed, for: "rosies-bakery")
            let after = try await client.read(until: { $0.events.count == 2 })
            #expect(ContinuousClock.now - sent < .seconds(1))
            #expect(after.events.last?.data.contains("Instagram DMs are down. Call us!") == true)

            await banners.store(try entry("", active: false, revision: 3), for: "rosies-bakery")
            let down = try await client.read(until: { $0.events.count == 3 })
            #expect(down.events.last.flatMap { BannerDocument.decode(Data($0.data.utf8)) }?.active == false)
            client.close()
        }
    }

    @Test func aReconnectionWithTheCurrentIdIsNotSentTheBannerAgain() async throws {
        let banners = try await state(BannerStreamSettings(heartbeat: .milliseconds(100)))
        let etag = BannerEndpoint.etag(try #require(await banners.entry(for: "rosies-bakery")).json)
        try await withListener(banners) { port in
            let client = try EventStreamClient(port: port, path: Self.path, headers: ["Last-Event-ID": etag])
            let quiet = try await client.read(until: { $0.body.contains(": heartbeat") })
            #expect(quiet.events.isEmpty, "the page already has this banner")
            await banners.store(try entry("Changed", revision: 2), for: "rosies-bakery")
            let changed = try await client.read(until: { $0.events.count == 1 })
            #expect(changed.events.first?.data.contains("Changed") == true)
            client.close()
        }
    }

    @Test func aQuietStreamSendsACommentHeartbeat() async throws {
        let banners = try await state(BannerStreamSettings(heartbeat: .milliseconds(200)))
        try await withListener(banners) { port in
            let client = try EventStreamClient(port: port, path: Self.path)
            let started = ContinuousClock.now
            let beats = try await client.read(until: { $0.body.components(separatedBy: ": heartbeat\n\n").count - 1 >= 3 })
            #expect(ContinuousClock.now - started < .seconds(2), "three heartbeats 200 ms apart")
            #expect(beats.events.count == 1, "comments are not events")
            client.close()
        }
    }

    @Test func pastTheLimitAStreamIsRefusedWith503AndAPlaceFreesWhenAPageLeaves() async throws {
        let banners = try await state(BannerStreamSettings(maxStreamsPerBusiness: 2, heartbeat: .milliseconds(100)))
        try await withListener(banners) { port in
            let first = try EventStreamClient(port: port, path: Self.path)
            let second = try EventStreamClient(port: port, path: Self.path)
            _ = try await first.read(until: { $0.events.count == 1 })
            _ = try await second.read(until: { $0.events.count == 1 })
            #expect(banners.openWatches(for: "rosies-bakery") == 2)

            let third = try EventStreamClient(port: port, path: Self.path)
            let refused = try await third.read(until: { $0.ended })
            #expect(refused.status == 503)
            #expect(refused.headers["retry-after"] == "300")
            #expect(refused.headers["access-control-allow-origin"] == "*")
            #expect(refused.body.contains("/banner/rosies-bakery.json"))
            third.close()

            first.close()
            let deadline = ContinuousClock.now + .seconds(3)
            while banners.openWatches(for: "rosies-bakery") > 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(banners.openWatches(for: "rosies-bakery") == 1, "the heartbeat to the closed page failed and freed its place")
            let fourth = try EventStreamClient(port: port, path: Self.path)
            #expect(try await fourth.read(until: { $0.events.count == 1 }).status == 200)
            fourth.close()
            second.close()
        }
    }

    @Test func aStreamEndsAfterItsLongestLifeAndTheBrowserReconnects() async throws {
        let banners = try await state(BannerStreamSettings(heartbeat: .seconds(60), maxDuration: .milliseconds(500)))
        try await withListener(banners) { port in
            let client = try EventStreamClient(port: port, path: Self.path)
            let started = ContinuousClock.now
            let ended = try await client.read(until: { $0.ended })
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(ended.status == 200)
            #expect(ended.events.count == 1)
            client.close()
            #expect(banners.openWatches(for: "rosies-bakery") == 0)
        }
    }

    @Test func gracefulShutdownEndsOpenStreamsPromptly() async throws {
        let banners = try await state(BannerStreamSettings(heartbeat: .seconds(60), maxDuration: .seconds(600)))
        let clients = ClientBox()
        let stopping = ClientBox.Instant()
        try await withListener(banners) { port in
            let client = try EventStreamClient(port: port, path: Self.path)
            _ = try await client.read(until: { $0.events.count == 1 })
            clients.add(client)
            stopping.set(.now)
        }
        let stopped = ContinuousClock.now - (stopping.get() ?? .now)
        #expect(stopped < .seconds(2), "the listener stopped \(stopped) after graceful shutdown began")
        let client = try #require(clients.first)
        #expect(try await client.read(until: { $0.ended }).ended, "the page saw its stream end")
        client.close()
        #expect(banners.openWatches(for: "rosies-bakery") == 0)
    }

    @Test func removingTheBusinessEndsItsStreamsAndUnknownOnesAre404() async throws {
        let banners = try await state(BannerStreamSettings(heartbeat: .seconds(60)))
        try await withListener(banners) { port in
            let client = try EventStreamClient(port: port, path: Self.path)
            _ = try await client.read(until: { $0.events.count == 1 })
            await banners.remove(business: "rosies-bakery")
            #expect(try await client.read(until: { $0.ended }).ended)
            client.close()

            let unknown = try EventStreamClient(port: port, path: "/banner/glow-salon/events")
            #expect(try await unknown.read(until: { $0.ended }).status == 404)
            unknown.close()
            let preflight = try EventStreamClient(port: port, path: Self.path, method: "OPTIONS",
                                                  headers: ["Origin": "https://rosies.example", "Access-Control-Request-Headers": "last-event-id"])
            let answer = try await preflight.read(until: { $0.ended })
            #expect(answer.status == 204)
            #expect(answer.headers["access-control-allow-origin"] == "*")
            #expect(answer.headers["access-control-allow-headers"]?.contains("Last-Event-ID") == true)
            preflight.close()
        }
    }
}

/// Holds what a test body hands out after the listener stopped.
private final class ClientBox: @unchecked Sendable {
    private let lock = NSLock()
    private var clients: [EventStreamClient] = []
    func add(_ client: EventStreamClient) { lock.withLock { clients.append(client) } }
    var first: EventStreamClient? { lock.withLock { clients.first } }

    final class Instant: @unchecked Sendable {
        private let lock = NSLock()
        private var value: ContinuousClock.Instant?
        func set(_ v: ContinuousClock.Instant) { lock.withLock { value = v } }
        func get() -> ContinuousClock.Instant? { lock.withLock { value } }
    }
}

/// A minimal HTTP/1.1 client over a TCP socket that keeps every byte it reads, decodes a chunked
/// body as far as it has arrived, and parses server-sent events out of it.
private final class EventStreamClient: @unchecked Sendable {
    /// One server-sent event.
    struct Event: Equatable {
        var type = "message"
        var id: String?
        var data = ""
    }

    /// What has arrived so far.
    struct Received {
        var status = 0
        var headers: [String: String] = [:]
        var body = ""
        var events: [Event] = []
        /// The response is complete (last chunk, or all of a Content-Length body) or the server closed.
        var ended = false
    }

    private let lock = NSLock()
    private let fd: Int32
    private var raw = Data()
    private var closedByPeer = false

    init(port: Int, path: String, method: String = "GET", headers: [String: String] = [:]) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw InfraTestError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let problem = String(cString: strerror(errno))
            Glibc.close(fd)
            throw InfraTestError("connect 127.0.0.1:\(port): \(problem)")
        }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            Glibc.close(fd)
            throw InfraTestError("cannot send the request")
        }
    }

    /// Reads until `done` holds for what has arrived, failing after `timeout`.
    func read(until done: @escaping @Sendable (Received) -> Bool, timeout: Duration = .seconds(5)) async throws -> Received {
        try await InfraSupport.blocking { [self] in
            let deadline = ContinuousClock.now + timeout
            while true {
                let now = lock.withLock { Self.decode(raw, closed: closedByPeer) }
                if done(now) { return now }
                if now.ended && lock.withLock({ closedByPeer }) {
                    throw InfraTestError("the connection ended before the expected data: \(now.body)")
                }
                guard Posix.wait(fd, for: Int16(POLLIN), until: deadline) else {
                    throw InfraTestError("nothing expected arrived within \(timeout); so far: status \(now.status), body \(now.body)")
                }
                var buffer = [UInt8](repeating: 0, count: 16 * 1024)
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                lock.withLock {
                    if count > 0 { raw.append(contentsOf: buffer[0..<count]) } else { closedByPeer = true }
                }
            }
        }
    }

    func close() { Glibc.close(fd) }

    private static func decode(_ raw: Data, closed: Bool) -> Received {
        var received = Received()
        received.ended = closed
        let text = String(decoding: raw, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return received }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        received.status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            received.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var rest = Substring(text[split.upperBound...])
        if received.status == 204 || received.status == 304 { received.ended = true }
        if received.headers["transfer-encoding"] == "chunked" {
            while let end = rest.range(of: "\r\n"), let size = Int(rest[..<end.lowerBound], radix: 16) {
                let start = end.upperBound
                guard rest.utf8.count - rest[..<start].utf8.count >= size + 2 else { break }
                let chunkEnd = rest.utf8.index(start, offsetBy: size)
                if size == 0 { received.ended = true; break }
                received.body += rest[start..<chunkEnd]
                rest = rest[rest.utf8.index(chunkEnd, offsetBy: 2)...]
            }
        } else {
            received.body = String(rest)
            if let length = received.headers["content-length"].flatMap({ Int($0) }), rest.utf8.count >= length { received.ended = true }
        }
        received.events = events(in: received.body)
        return received
    }

    /// The complete events in `body` (each ends with a blank line), as an EventSource sees them.
    private static func events(in body: String) -> [Event] {
        var events: [Event] = []
        for block in body.components(separatedBy: "\n\n").dropLast() {
            var event = Event()
            var data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) where !line.hasPrefix(":") {
                let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                let value = parts.count > 1 ? String(parts[1].hasPrefix(" ") ? parts[1].dropFirst() : parts[1]) : ""
                switch parts[0] {
                case "event": event.type = value
                case "id": event.id = value
                case "data": data.append(value)
                default: break
                }
            }
            if !data.isEmpty {
                event.data = data.joined(separator: "\n")
                events.append(event)
            }
        }
        return events
    }
}
