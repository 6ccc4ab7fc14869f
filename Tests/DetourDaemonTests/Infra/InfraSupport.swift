@testable import DetourDaemon
import Foundation
import Logging
import ServiceLifecycle
import TestKit
#if canImport(Glibc)
import Glibc
#endif

/// Helpers for the daemon plumbing tests: a quiet logger, services run in a real ServiceGroup,
/// and a unix datagram socket that plays systemd's notify socket.
enum InfraSupport {
    static let logger = Logger(label: "detour.test.infra", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `services` in a ServiceGroup while `body` runs, then shuts them down gracefully and
    /// waits for them to return. Fails when anything takes longer than `limit`.
    static func running(
        _ services: [any Service], limit: Duration = .seconds(60),
        _ body: @escaping @Sendable () async throws -> Void
    ) async throws {
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await within(limit) {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                tasks.addTask {
                    do {
                        try await body()
                    } catch {
                        await group.triggerGracefulShutdown()
                        throw error
                    }
                    await group.triggerGracefulShutdown()
                }
                try await tasks.waitForAll()
            }
        }
    }

    /// The first value of `stream`; throws when the stream ends first (the service failed).
    static func first<T: Sendable>(_ stream: AsyncStream<T>) async throws -> T {
        for await value in stream { return value }
        throw InfraTestError("the service stopped before it was ready")
    }

    /// Runs blocking client code off the concurrency pool, as the CLI would on its own thread.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await offloadBlocking { Result { try work() } }.get()
    }
}

struct InfraTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A unix datagram socket bound at a path (or an abstract `@name`) that collects what is sent to it.
final class DatagramReceiver: @unchecked Sendable {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        guard let address = UnixSocketAddress(path) else { throw InfraTestError("bad socket path \(path)") }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0, address.withSockAddr({ bind(fd, $0, $1) }) == 0 else {
            throw InfraTestError("cannot bind \(path): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        self.path = path
    }

    /// The next datagram as text, or nil when none arrives within `timeout`.
    func receive(timeout: Duration = .seconds(5)) -> String? {
        guard Posix.wait(fd, for: Int16(POLLIN), until: .now + timeout) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count >= 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    deinit {
        close(fd)
        if !path.hasPrefix("@") { unlink(path) }
    }
}
