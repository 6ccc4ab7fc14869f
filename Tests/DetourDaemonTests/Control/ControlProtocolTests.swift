import DetourCore
@testable import DetourDaemon
import DetourStore
import Foundation
import Testing
import TestKit
#if canImport(Glibc)
import Glibc
#endif

/// The typed requests and responses, over a real unix socket between `ControlClient` and
/// `ControlServer`, and what each side says to a peer of another version.
@Suite struct ControlProtocolTests {
    /// A moment with whole seconds: the wire carries ISO 8601 dates.
    static let at = Date(timeIntervalSince1970: 1_750_000_000)

    static let incident = IncidentRecord(
        id: 3, business: BusinessID("rosies-bakery"), origin: .manual, openedBy: "uid 1000 (alice)", reason: "DMs not arriving",
        platforms: [PlatformID("instagram")], policyVersion: 2, state: .open, openedAt: at, resolvedAt: nil,
        resolvedBy: nil, resolveReason: nil, eventSequence: 1)

    static let delivery = DeliveryRecord(
        id: 41, incident: 3, business: BusinessID("rosies-bakery"), event: .opened, eventSequence: 1, channel: .email,
        target: "ann@example.test", recipientName: "Ann", locale: "en", idempotencyKey: "3-1-email-ann", state: .dead,
        attempts: 10, createdAt: at, nextAttemptAt: at, leaseOwner: nil, leaseExpiresAt: nil,
        lastError: "550 5.1.1 no such user", reply: nil, sentAt: nil)

    static let audit = AuditEntry(at: at, actor: "uid 1000 (alice)", action: "hold.set", business: BusinessID("glow-salon"),
                                  incident: nil, detail: "number migration (until 2025-06-15T17:06:40Z)")

    static let status = StatusReport(
        daemon: .init(version: "0.1.0", pid: 42, startedAt: at, config: "/etc/detour/detour.yaml", state: "running",
                      http: "http://127.0.0.1:8470", owner: "host-1"),
        platforms: [.init(platform: "instagram", name: "Instagram", state: "down", reason: "HTTP 503 from 2 of 2 probes", since: at)],
        businesses: [.init(business: "rosies-bakery", name: "Rosie's Bakery", incident: incident, hold: nil, manual: nil,
                           explanation: "failed over by hand")],
        quietBusinesses: 4, queue: ["queued": 2, "dead": 1],
        lastReload: ReloadReport(at: at, ok: true, message: "5 policies"),
        disabledWebhooks: [.init(business: "glow-salon", webhook: "crm", since: at, reason: "HTTP 410 Gone")])

    /// Every request the CLI sends, and the answer a daemon gives it.
    static let exchanges: [(ControlRequest, ControlResponse)] = [
        (.status, .status(status)),
        (.failoverStart(FailoverStart(business: BusinessID("rosies-bakery"), platforms: [PlatformID("instagram"), PlatformID("whatsapp")],
                                      reason: "DMs not arriving", newIncident: true)),
         .message("rosies-bakery failed over (incident 3)")),
        (.failoverStop(business: BusinessID("rosies-bakery")), .message("rosies-bakery: incident 3 resolved")),
        (.hold(Hold(business: BusinessID("glow-salon"), reason: "number migration", seconds: 7200)), .message("glow-salon on hold")),
        (.hold(Hold(business: BusinessID("glow-salon"), reason: "until further notice")), .message("glow-salon on hold")),
        (.release(business: BusinessID("glow-salon")), .failure("glow-salon is not on hold", hint: "`detour status` lists holds")),
        (.incidents(IncidentFilter(business: BusinessID("rosies-bakery"), state: .open, limit: 5)), .incidents([incident])),
        (.incidents(IncidentFilter()), .incidents([])),
        (.deliveries(DeliveryFilter(business: BusinessID("rosies-bakery"), incident: 3, state: .dead, channel: .email, limit: 20)),
         .deliveries([delivery])),
        (.retry(.ids([41, 42])), .message("requeued 2 deliveries")),
        (.retry(.dead(business: BusinessID("rosies-bakery"))), .message("requeued 1 delivery")),
        (.retry(.dead(business: nil)), .message("requeued 0 deliveries")),
        (.reload, .failure("policies/x.yaml:3:1: unknown key", hint: "fix the files", code: .refused)),
        (.audit(AuditQuery(business: BusinessID("glow-salon"), limit: 10)), .audit([audit])),
        (.audit(AuditQuery()), .failure("audit failed: disk I/O error", hint: "the daemon's log has details", code: .failed)),
    ]

    @Test func everyRequestAndAnswerCrossesARealSocketUnchanged() async throws {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        let seen = Seen()
        let (listening, ready) = AsyncStream.makeStream(of: Void.self)
        let server = ControlServer(path: path, group: nil, logger: InfraSupport.logger, readTimeout: .seconds(2),
                                   onListening: { ready.yield() }) { request, _ in
            await seen.add(request)
            return Self.exchanges.first { $0.0 == request }?.1 ?? .failure("not in the table")
        }
        try await InfraSupport.running([server]) {
            try await InfraSupport.first(listening)
            for (request, expected) in Self.exchanges {
                let answer = try await InfraSupport.blocking { try ControlClient(path: path).send(request, timeout: .seconds(5)) }
                #expect(answer == expected, "\(request.name.rawValue)")
            }
        }
        #expect(await seen.requests == Self.exchanges.map(\.0))
    }

    @Test func valuesTravelTypedNotAsTextForTheDaemonToParse() throws {
        let hold = String(decoding: try ControlWire.encode(ControlRequest.hold(
            Hold(business: BusinessID("glow-salon"), reason: "migration", seconds: 7200))), as: UTF8.self)
        #expect(hold == #"{"arguments":{"business":"glow-salon","reason":"migration","seconds":7200},"request":"hold"}"# + "\n")
        let retry = String(decoding: try ControlWire.encode(ControlRequest.retry(.ids([41, 42]))), as: UTF8.self)
        #expect(retry == #"{"arguments":{"ids":[41,42]},"request":"deliveries.retry"}"# + "\n")
        let start = String(decoding: try ControlWire.encode(ControlRequest.failoverStart(FailoverStart(
            business: BusinessID("shop"), platforms: [PlatformID("acme")], reason: "down"))), as: UTF8.self)
        #expect(start == #"{"arguments":{"business":"shop","newIncident":false,"platforms":["acme"],"reason":"down"},"request":"failover.start"}"# + "\n")
        #expect(String(decoding: try ControlWire.encode(ControlRequest.status), as: UTF8.self) == #"{"request":"status"}"# + "\n")
    }

    @Test func aRefusalKeepsTheOkErrorAndHintAnOlderCLIReads() throws {
        let line = try ControlWire.encode(ControlResponse.failure("no business 'x'", hint: "known businesses: shop"))
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(object["ok"] as? Bool == false)
        #expect(object["error"] as? String == "no business 'x'")
        #expect(object["hint"] as? String == "known businesses: shop")
        #expect(object["code"] as? String == "refused")
    }

    @Test func aRequestFromANewerCLIIsRefusedAsUnknownWithoutReachingTheHandler() async throws {
        let failure = try await refusal(of: #"{"request":"policy.apply","arguments":{"file":"shop.yaml"}}"#)
        #expect(failure.code == .badRequest)
        #expect(failure.message == "unknown request 'policy.apply'; is the CLI newer than the daemon?")
        #expect(failure.hint?.contains("this daemon is detour \(BuildInfo.version) and understands: status, failover.start,") == true)
    }

    @Test func aRequestInTheOlderFormatIsToldTheCLIIsOlder() async throws {
        let failure = try await refusal(of: #"{"command":"hold","arguments":{"business":"shop","for":"2h","reason":"x"}}"#)
        #expect(failure.code == .badRequest)
        #expect(failure.message.contains("the request 'hold' is in the older control format"))
        #expect(failure.message.hasSuffix("is the CLI older than the daemon?"))
    }

    @Test func argumentsOfTheWrongShapeNameTheKey() async throws {
        let text = try await refusal(of: #"{"request":"hold","arguments":{"business":"shop","reason":"x","seconds":"2h"}}"#)
        #expect(text.code == .badRequest)
        #expect(text.message.contains("the arguments of 'hold'"))
        #expect(text.message.contains(#""seconds": expected Double"#), "\(text.message)")
        let missing = try await refusal(of: #"{"request":"failover.start","arguments":{"business":"shop"}}"#)
        #expect(missing.message.contains(#"missing "reason""#), "\(missing.message)")
        let state = try await refusal(of: #"{"request":"deliveries","arguments":{"state":"lost","limit":5}}"#)
        #expect(state.message.contains(#""state""#), "\(state.message)")
    }

    @Test func anAnswerInTheOlderFormatIsToldTheDaemonIsOlder() async throws {
        let error = try await clientError(answering: #"{"ok":true,"body":"{\"message\":\"done\"}"}"#)
        #expect(error.code == .badResponse)
        #expect(error.message.hasSuffix("answered in the older control format; is the daemon older than the CLI?"))
        #expect(error.hint?.contains("systemctl restart detour") == true)
    }

    @Test func anAnswerOfAKindThisCLIDoesNotKnowIsToldTheDaemonIsNewer() async throws {
        let error = try await clientError(answering: #"{"ok":true,"response":"policies","result":[]}"#)
        #expect(error.code == .badResponse)
        #expect(error.message.hasSuffix("sent a 'policies' answer this CLI does not know; is the daemon newer than the CLI?"))
    }

    @Test func anOlderDaemonsRefusalIsShownAsItIs() async throws {
        let answer = try await rawAnswer(#"{"ok":false,"error":"unknown command 'audit'","hint":"is the CLI newer than the daemon?"}"#,
                                         to: .audit(AuditQuery()))
        #expect(answer == .failure("unknown command 'audit'", hint: "is the CLI newer than the daemon?", code: .failed))
    }

    // MARK: Helpers

    /// What a real `ControlServer` answers to `line`; records an issue when the handler sees it.
    private func refusal(of line: String) async throws -> ControlFailure {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        let seen = Seen()
        let (listening, ready) = AsyncStream.makeStream(of: Void.self)
        let server = ControlServer(path: path, group: nil, logger: InfraSupport.logger, readTimeout: .seconds(2),
                                   onListening: { ready.yield() }) { request, _ in
            await seen.add(request)
            return .message("handled")
        }
        let box = Box<ControlResponse>()
        try await InfraSupport.running([server]) {
            try await InfraSupport.first(listening)
            let answer = try await InfraSupport.blocking { try RawPeer.exchange(line, at: path) }
            box.value = try ControlWire.decode(ControlResponse.self, from: Data(answer.utf8))
        }
        #expect(await seen.requests.isEmpty, "the handler never sees a request it cannot read")
        guard case .failure(let failure)? = box.value else {
            throw InfraTestError("expected a failure, got \(String(describing: box.value))")
        }
        return failure
    }

    /// What `ControlClient` makes of a daemon that answers `answer` to any request.
    private func rawAnswer(_ answer: String, to request: ControlRequest) async throws -> ControlResponse {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        let peer = try RawPeer(path: path, answer: answer)
        defer { peer.close() }
        return try await InfraSupport.blocking { try ControlClient(path: path).send(request, timeout: .seconds(5)) }
    }

    private func clientError(answering answer: String) async throws -> ControlClientError {
        do {
            let response = try await rawAnswer(answer, to: .status)
            throw InfraTestError("expected the client to refuse the answer, got \(response)")
        } catch let error as ControlClientError {
            return error
        }
    }
}

/// Requests the handler saw.
private actor Seen {
    var requests: [ControlRequest] = []
    func add(_ request: ControlRequest) { requests.append(request) }
}

private final class Box<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

/// The other end of a control socket, speaking raw lines: a daemon of another version that answers
/// every connection with the same line, or (`exchange`) a CLI of another version.
private final class RawPeer: @unchecked Sendable {
    private let fd: Int32
    private let thread: Thread

    init(path: String, answer: String) throws {
        guard let address = UnixSocketAddress(path) else { throw InfraTestError("bad socket path \(path)") }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0, address.withSockAddr({ bind(fd, $0, $1) }) == 0, listen(fd, 4) == 0 else {
            throw InfraTestError("cannot listen on \(path): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        thread = Thread {
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 { return }  // closed
                Posix.setNonBlocking(connection)
                _ = Posix.readLine(connection, limit: 1 << 20, until: .now + .seconds(5))
                _ = Posix.writeAll(connection, Data((answer + "\n").utf8), until: .now + .seconds(5))
                Glibc.close(connection)
            }
        }
        thread.start()
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    /// Sends `line` to the daemon at `path` and returns its answer line.
    static func exchange(_ line: String, at path: String) throws -> String {
        let fd = Posix.streamSocket()
        defer { Glibc.close(fd) }
        guard let address = UnixSocketAddress(path), address.withSockAddr({ connect(fd, $0, $1) }) == 0 else {
            throw InfraTestError("cannot connect to \(path)")
        }
        _ = Posix.writeAll(fd, Data((line + "\n").utf8), until: .now + .seconds(5))
        guard case .line(let answer) = Posix.readLine(fd, limit: 1 << 20, until: .now + .seconds(5)) else {
            throw InfraTestError("no answer from \(path)")
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
