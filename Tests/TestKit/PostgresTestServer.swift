import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The PostgreSQL server the tests run against: `$DETOUR_TEST_POSTGRES_URL` when set
/// (`scripts/test.sh` starts one with `scripts/postgres-test-server.sh` and sets it), else a
/// throwaway server this test process starts on first use and stops when it exits.
/// Every test gets a database of its own from `freshDatabase()`.
public enum PostgresTestServer {
    private static let state = Mutex<Result<String, PostgresTestServerError>?>(nil)
    nonisolated(unsafe) private static var ownDirectory: String?

    /// The server's URL (its `postgres` database), starting a server when needed.
    public static func url() throws -> String {
        try state.withLock { current -> Result<String, PostgresTestServerError> in
            if let current { return current }
            let result = Result { try start() }.mapError { $0 as? PostgresTestServerError ?? .init(message: "\($0)") }
            current = result
            return result
        }.get()
    }

    /// A new, empty database on the server; its URL (no TLS, trusted local user `detour`).
    public static func freshDatabase() throws -> String {
        let server = try url()
        let name = "detour_t" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try psql(server, "CREATE DATABASE \(name)")
        guard let range = server.range(of: "/postgres?") else {
            throw PostgresTestServerError(message: "the test server's URL does not name the postgres database: \(server)")
        }
        return server.replacingCharacters(in: range, with: "/\(name)?")
    }

    /// Runs one SQL command with psql against `url`; its output.
    @discardableResult
    public static func psql(_ url: String, _ sql: String) throws -> String {
        let (status, output) = try run("/usr/bin/psql", [url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard status == 0 else { throw PostgresTestServerError(message: "psql \(sql.prefix(60)): \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A server of the caller's own (for a test that restarts it), stopped when the value goes away.
    public final class Dedicated: @unchecked Sendable {
        public let url: String
        let dir: String
        init(url: String, dir: String) { self.url = url; self.dir = dir }
        /// Stops the server at once (as a crash would) and starts it again on the same port.
        public func restart() throws {
            let (status, output) = try PostgresTestServer.script(["restart", dir])
            guard status == 0 else { throw PostgresTestServerError(message: output) }
        }
        /// Stops the server at once, keeping its data: the database is unreachable until `resume()`.
        public func pause() throws {
            let (status, output) = try PostgresTestServer.script(["pause", dir])
            guard status == 0 else { throw PostgresTestServerError(message: output) }
        }
        public func resume() throws {
            let (status, output) = try PostgresTestServer.script(["resume", dir])
            guard status == 0 else { throw PostgresTestServerError(message: output) }
        }
        deinit { _ = try? PostgresTestServer.script(["stop", dir]) }
    }

    public static func dedicated() throws -> Dedicated {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("detour-pg-\(UUID().uuidString.prefix(8))").path
        let (status, output) = try script(["start", dir])
        guard status == 0 else { throw PostgresTestServerError(message: "cannot start a PostgreSQL server: \(output)") }
        return Dedicated(url: output.trimmingCharacters(in: .whitespacesAndNewlines), dir: dir)
    }

    private static func start() throws -> String {
        if let url = ProcessInfo.processInfo.environment["DETOUR_TEST_POSTGRES_URL"], !url.isEmpty { return url }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("detour-pg-\(UUID().uuidString.prefix(8))").path
        let (status, output) = try script(["start", dir])
        guard status == 0 else {
            throw PostgresTestServerError(message: "cannot start a PostgreSQL server for the tests "
                                          + "(scripts/setup.sh installs Debian's postgresql): \(output)")
        }
        ownDirectory = dir
        atexit { PostgresTestServer.stopOwn() }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func stopOwn() {
        guard let dir = ownDirectory else { return }
        _ = try? script(["stop", dir])
    }

    static func script(_ args: [String]) throws -> (Int32, String) {
        try run("/bin/bash", [Repo.path("scripts/postgres-test-server.sh")] + args)
    }

    /// Runs a program to its end with stdout and stderr in a temporary file, and returns its exit
    /// status and output. posix_spawn and waitpid, not Foundation's Process: the server the script
    /// starts outlives it, and Process's wait was seen to hang on such a child.
    static func run(_ path: String, _ args: [String]) throws -> (Int32, String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("detour-pg-cmd-\(UUID().uuidString)").path
        defer { unlink(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw PostgresTestServerError(message: "cannot run \(path): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let exited = status & 0x7F == 0
        return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), output)
    }
}

public struct PostgresTestServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
