import DetourCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The `Store` in a PostgreSQL database, shared by every Detour node of a cluster.
///
/// The same contract as `SQLiteStore`: an incident event, its deliveries and its audit entry in one
/// transaction; claims that skip rows another node holds (`FOR UPDATE SKIP LOCKED`); outcomes
/// written only by the lease holder; one open incident per business and an append-only audit log,
/// both enforced by the schema (`PostgresSchema`). Dates are stored as seconds since 1970
/// (`double precision`), platform lists as JSON text, as in the SQLite file, so a state file copies
/// over as it is.
///
/// Errors are `StoreError`s naming the database by its URL without secrets: `.unavailable` when
/// PostgreSQL cannot be reached or refuses, `.conflict` when a change contradicts what is stored,
/// `.notFound` when the row asked for does not exist.
public final class PostgresStore: Store {
    public let location: PostgresLocation
    public let installID: String
    let client: PostgresClient
    private let runner: Task<Void, Never>
    let logger: Logger
    /// The leader lease incident writes must carry (`fence(with:)`); nil writes unfenced.
    let fenceLease = Mutex<LeaderLease?>(nil)

    /// Connects (the pool opens up to `maxConnections`), creates or migrates the schema under an
    /// advisory lock (so two nodes starting together cannot race), and reads the install id.
    ///
    /// The pool keeps retrying a server it cannot reach; opening gives up after `connectLimit` and
    /// says so, so a daemon pointed at the wrong place stops at start with a clear error.
    public static func open(_ location: PostgresLocation, maxConnections: Int = 8, connectLimit: Duration = .seconds(15),
                            logger: Logger = Logger(label: "detour.store.postgres")) async throws -> PostgresStore {
        // The pool's own chatter (a lease asked for before `run` starts, reconnections) only when it is an error.
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: try configuration(location, maxConnections: maxConnections),
                                    backgroundLogger: background)
        let runner = Task { await client.run() }
        do {
            let id = try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask { try await PostgresSchema.migrate(client, location: location, logger: logger) }
                group.addTask { try await Task.sleep(for: connectLimit); return nil }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let id = first else {
                    throw StoreError(.unavailable, "cannot connect to \(location) within \(connectLimit.components.seconds) s: "
                                     + "is the server running, does it accept connections from this host, and are the user, "
                                     + "password and sslmode right?")
                }
                return id
            }
            return PostgresStore(location: location, installID: id, client: client, runner: runner, logger: logger)
        } catch {
            runner.cancel()
            throw Self.mapped(error, "opening the store", location)
        }
    }

    private init(location: PostgresLocation, installID: String, client: PostgresClient, runner: Task<Void, Never>, logger: Logger) {
        self.location = location; self.installID = installID; self.client = client; self.runner = runner; self.logger = logger
    }

    deinit { runner.cancel() }

    /// Closes every connection.
    public func close() {
        runner.cancel()
    }

    static func configuration(_ location: PostgresLocation, maxConnections: Int) throws -> PostgresClient.Configuration {
        var config: PostgresClient.Configuration
        switch location.endpoint {
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS
            switch location.tls {
            case .disable: tls = .disable
            case .require:
                var t = TLSConfiguration.makeClientConfiguration()
                t.certificateVerification = .none
                tls = .require(t)
            case .verifyCA:
                var t = TLSConfiguration.makeClientConfiguration()
                t.certificateVerification = .noHostnameVerification
                tls = .require(t)
            case .verifyFull:
                tls = .require(TLSConfiguration.makeClientConfiguration())
            }
            config = .init(host: host, port: port, username: location.user, password: location.password,
                           database: location.database, tls: tls)
        case .unixSocket(let directory, let port):
            config = .init(unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: location.user,
                           password: location.password, database: location.database)
        }
        config.options.maximumConnections = max(1, maxConnections)
        config.options.connectTimeout = .seconds(10)
        return config
    }

    // MARK: Access

    /// Runs `body` in one transaction on one connection: committed when it returns, rolled back when
    /// it throws. Errors become `StoreError`s.
    @discardableResult
    func write<T: Sendable>(_ what: String, deadline: Duration = .seconds(30),
                            _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = client, logger = logger, location = location
        return try await Self.answer(what, within: deadline, location) {
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Runs one statement outside a transaction and returns its rows.
    func rows(_ what: String, _ query: PostgresQuery, deadline: Duration = .seconds(30)) async throws -> [PostgresRow] {
        let client = client, logger = logger
        return try await Self.answer(what, within: deadline, location) {
            try await client.query(query, logger: logger).collect()
        }
    }

    /// `operation`'s result, or `.unavailable` when it fails or takes longer than `deadline`.
    ///
    /// A call in flight when the server went away was seen never to return (a connection dropped
    /// mid-transaction); the caller is answered at the deadline whatever the call does, so the
    /// delivery workers and the outcome recorder retry on a fresh connection instead of waiting forever.
    static func answer<T: Sendable>(_ what: String, within deadline: Duration, _ location: PostgresLocation,
                                    _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let once = AnswerOnce<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            once.set(continuation)
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(mapped(error, what, location)) }
                once.take()?.resume(with: result)
            }
            Task {
                try? await Task.sleep(for: deadline)
                guard let waiting = once.take() else { return }
                work.cancel()
                waiting.resume(throwing: StoreError(.unavailable, "\(what) in \(location): no answer within \(deadline.components.seconds) s"))
            }
        }
    }

    static func mapped(_ error: any Error, _ what: String, _ location: PostgresLocation) -> any Error {
        switch error {
        case is StoreError, is CancellationError:
            return error
        case let pg as PSQLError:
            if let state = pg.serverInfo?[.sqlState] {
                let message = pg.serverInfo?[.message] ?? "error \(state)"
                // 23xxx: integrity constraint violations (unique, check, foreign key); P0001: a trigger's RAISE.
                if state.hasPrefix("23") || state == "P0001" {
                    return StoreError(.conflict, "\(what): \(message)")
                }
                return StoreError(.unavailable, "\(what) in \(location): PostgreSQL said \(message) (\(state))")
            }
            return StoreError(.unavailable, "\(what) in \(location): \(describe(pg))")
        default:
            return StoreError(.unavailable, "\(what) in \(location): \(error)")
        }
    }

    /// A client-side failure in words (PSQLError's own description is deliberately vague).
    private static func describe(_ error: PSQLError) -> String {
        switch error.code {
        case .connectionError: "cannot connect" + (error.underlying.map { ": \($0)" } ?? "")
        case .serverClosedConnection: "the server closed the connection"
        case .poolClosed: "the store is closed"
        case .authMechanismRequiresPassword: "the server wants a password and none is configured"
        case .sslUnsupported: "the server does not offer TLS (sslmode=disable turns TLS off)"
        default: "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
        }
    }
}

/// The continuation of one store call, resumed by whichever comes first: the answer or the deadline.
private final class AnswerOnce<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)
    func set(_ c: CheckedContinuation<T, any Error>) { continuation.withLock { $0 = c } }
    func take() -> CheckedContinuation<T, any Error>? { continuation.withLock { $0.take() } }
}

extension Date {
    /// This date as stored: seconds since 1970.
    var pgValue: Double { timeIntervalSince1970 }
    init(pgValue: Double) { self.init(timeIntervalSince1970: pgValue) }
}
