import DetourCore
@testable import DetourDaemon
import Foundation
import Testing
import TestKit
#if canImport(Glibc)
import Glibc
#endif

/// Requests the handler saw, with who sent them.
private actor Seen {
    var requests: [(ControlRequest, Caller)] = []
    func add(_ request: ControlRequest, _ caller: Caller) { requests.append((request, caller)) }
}

@Suite struct ControlSocketTests {
    /// This process, as the daemon describes its callers.
    static var me: Caller { Caller(uid: getuid(), gid: getgid(), pid: getpid(), userName: Posix.userName(getuid())) }

    /// A server at `path` whose handler echoes the request's name and records every request.
    private func server(at path: String, group: String? = nil, seen: Seen, listening: AsyncStream<Void>.Continuation? = nil) -> ControlServer {
        ControlServer(path: path, group: group, logger: InfraSupport.logger, readTimeout: .seconds(2),
                      onListening: { listening?.yield() }) { request, caller in
            await seen.add(request, caller)
            return .message("\(request.name.rawValue) for \(caller)")
        }
    }

    private func send(_ request: ControlRequest, to path: String) async throws -> Result<ControlResponse, ControlClientError> {
        try await InfraSupport.blocking {
            do throws(ControlClientError) {
                return .success(try ControlClient(path: path).send(request, timeout: .seconds(5)))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Runs a server at `path` while `body` runs.
    private func withServer(at path: String, group: String? = nil, seen: Seen = Seen(),
                            _ body: @escaping @Sendable () async throws -> Void) async throws {
        let (listening, continuation) = AsyncStream.makeStream(of: Void.self)
        let server = server(at: path, group: group, seen: seen, listening: continuation)
        try await InfraSupport.running([server]) {
            try await InfraSupport.first(listening)
            try await body()
        }
    }

    @Test func aRequestReachesTheHandlerWithTheCallersUidAndTheAnswerComesBack() async throws {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        let seen = Seen()
        try await withServer(at: path, seen: seen) {
            let response = try await send(.release(business: BusinessID("rosies-bakery")), to: path).get()
            #expect(response.message?.hasPrefix("release for uid \(getuid())") == true, "\(response)")
        }
        let requests = await seen.requests
        #expect(requests.count == 1)
        #expect(requests.first?.0 == .release(business: BusinessID("rosies-bakery")))
        let caller = try #require(requests.first?.1)
        #expect(caller.uid == getuid())
        #expect(caller.gid == getgid())
        #expect(caller.pid == getpid())
        #expect(caller.userName == Posix.userName(getuid()))
        #expect(!FileManager.default.fileExists(atPath: path), "the socket file is removed on shutdown")
    }

    @Test func theSocketIsMode0660AndOwnedByTheConfiguredGroup() async throws {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        let group = try #require(Posix.groupName(getegid()))
        try await withServer(at: path, group: group) {
            let info = try #require(Posix.status(path))
            #expect(Posix.isSocket(info))
            #expect(info.st_mode & 0o777 == 0o660)
            #expect(info.st_gid == getegid())
        }
    }

    @Test func aGroupThatDoesNotExistIsNamedInTheError() async throws {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        let server = server(at: path, group: "detour-no-such-group", seen: Seen())
        let error = await #expect(throws: ControlServerError.self) { try await server.run() }
        #expect(error?.code == .group)
        #expect(error?.message.contains("\"detour-no-such-group\" does not exist") == true)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aStaleSocketFileLeftByADeadDaemonIsReplaced() async throws {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        // A socket file with nobody behind it, as a killed daemon leaves it.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let address = try #require(UnixSocketAddress(path))
        #expect(address.withSockAddr { bind(fd, $0, $1) } == 0)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))

        try await withServer(at: path) {
            let response = try await send(.status, to: path).get()
            #expect(response.message == "status for \(Self.me)")
        }
    }

    @Test func aSecondDaemonOnALiveSocketIsRefusedAndTheFirstKeepsWorking() async throws {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        try await withServer(at: path) {
            let second = server(at: path, seen: Seen())
            let error = await #expect(throws: ControlServerError.self) { try await second.run() }
            #expect(error?.code == .alreadyRunning)
            #expect(error?.message == "another detour daemon is already listening on \(path)")
            let response = try await send(.status, to: path).get()
            #expect(response.message == "status for \(Self.me)")
        }
    }

    @Test func aFileThatIsNotASocketIsLeftAlone() async throws {
        let tmp = try TempDir()
        let path = try tmp.write("control.sock", "not a socket")
        let error = await #expect(throws: ControlServerError.self) { try await server(at: path, seen: Seen()).run() }
        #expect(error?.code == .path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "not a socket")
    }

    @Test func withoutADaemonTheClientSaysSoAndHowToStartOne() async throws {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        let result = try await send(.status, to: path)
        guard case .failure(let error) = result else {
            Issue.record("expected an error, got \(result)")
            return
        }
        #expect(error.code == .notRunning)
        #expect(error.message == "no detour daemon is listening on \(path)")
        #expect(error.hint == "start it with `sudo systemctl start detour` or `detour run --config /etc/detour/detour.yaml`")
    }

    @Test func aRequestOver1MiBIsRefusedWithoutReachingTheHandler() async throws {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        let seen = Seen()
        try await withServer(at: path, seen: seen) {
            let huge = ControlRequest.hold(Hold(business: BusinessID("rosies-bakery"), reason: String(repeating: "a", count: 1 << 20)))
            let response = try await send(huge, to: path).get()
            #expect(response == .failure("the request is larger than 1 MiB and was refused", code: .badRequest))
        }
        #expect(await seen.requests.isEmpty)
    }

    @Test func aLineThatIsNotARequestGetsAClearError() async throws {
        let tmp = try TempDir()
        let path = tmp.file("control.sock")
        try await withServer(at: path) {
            let answer = try await InfraSupport.blocking { () throws -> String in
                let fd = Posix.streamSocket()
                defer { close(fd) }
                guard let address = UnixSocketAddress(path), address.withSockAddr({ connect(fd, $0, $1) }) == 0 else {
                    throw InfraTestError("cannot connect")
                }
                _ = Posix.writeAll(fd, Data("hello daemon\n".utf8), until: .now + .seconds(5))
                guard case .line(let line) = Posix.readLine(fd, limit: 1 << 16, until: .now + .seconds(5)) else {
                    throw InfraTestError("no answer")
                }
                return String(decoding: line, as: UTF8.self)
            }
            let response = try ControlWire.decode(ControlResponse.self, from: Data(answer.utf8))
            guard case .failure(let failure) = response else {
                Issue.record("expected a failure, got \(response)")
                return
            }
            #expect(failure.code == .badRequest)
            #expect(failure.message.hasPrefix("not a control request"))
        }
    }

    @Test func callersDescribeThemselvesByUidAndName() {
        #expect(Caller(uid: 1000, gid: 1000, pid: 42, userName: "alice").description == "uid 1000 (alice)")
        #expect(Caller(uid: 1001, gid: 1001, pid: 42).description == "uid 1001")
    }
}
