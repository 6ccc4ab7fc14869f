import DetourCore
import Foundation
import PostgresNIO

/// An operator's change asked for on a node that does not lead, waiting in the store for the leader
/// to carry it out. `request` is the control request as the CLI sent it (JSON).
public struct ClusterRequest: Sendable, Hashable {
    public var id: Int64
    /// The node the operator asked.
    public var node: String
    /// Who asked (uid and node), as the audit log names them.
    public var actor: String
    public var request: String
    public var createdAt: Date
    /// The leader that took it, when one has.
    public var takenBy: String?
    public var doneAt: Date?
    public var ok: Bool?
    /// The leader's answer (or why it was not carried out).
    public var answer: String?
}

/// What a NOTIFY on the `detour` channel tells the other nodes.
public enum ClusterSignal: String, Sendable, CaseIterable {
    /// An incident changed (and deliveries may have been queued): banners, the followers' view, the workers.
    case incident
    /// Deliveries became due (queued again by hand).
    case work
    /// An operator's request waits for the leader, or one was answered.
    case request
}

// MARK: Views, requests and signals between the nodes of a cluster

extension PostgresStore {
    /// The channel every node LISTENs on.
    static let signalChannel = "detour"

    /// Records this node's current view of each platform (one row per node and platform, replaced).
    public func recordViews(_ views: [NodeView]) async throws {
        guard !views.isEmpty else { return }
        try await write("recording this node's platform views", deadline: .seconds(5)) { [self] c in
            try await c.query("""
                INSERT INTO platform_views (node, platform, state, reason, controls_pass, since, at)
                SELECT * FROM unnest(\(views.map(\.node))::text[], \(views.map(\.platform.rawValue))::text[],
                                     \(views.map(\.state.rawValue))::text[], \(views.map(\.reason))::text[],
                                     \(views.map(\.controlsPass))::boolean[], \(views.map(\.since.pgValue))::float8[],
                                     \(views.map(\.at.pgValue))::float8[])
                ON CONFLICT (node, platform) DO UPDATE SET state = excluded.state, reason = excluded.reason,
                    controls_pass = excluded.controls_pass, since = excluded.since, at = excluded.at
                """, logger: logger)
        }
    }

    /// Every node's latest view of every platform, by node then platform.
    public func views() async throws -> [NodeView] {
        try await rows("reading the nodes' platform views", """
            SELECT node, platform, state, reason, controls_pass, since, at FROM platform_views ORDER BY node, platform
            """, deadline: .seconds(5)).compactMap { row in
            let (node, platform, state, reason, pass, since, at) = try row.decode((String, String, String, String, Bool, Double, Double).self)
            guard let s = PlatformState(rawValue: state) else { return nil }
            return NodeView(node: node, platform: PlatformID(platform), state: s, reason: reason, controlsPass: pass,
                            since: Date(pgValue: since), at: Date(pgValue: at))
        }
    }

    // MARK: Requests

    /// Leaves an operator's request for the leader and wakes it. Returns the request's id.
    public func submitRequest(node: String, actor: String, request: String, now: Date) async throws -> Int64 {
        try await write("passing a request to the leader") { [self] c in
            let rows = try await c.query("""
                INSERT INTO requests (node, actor, request, created_at) VALUES (\(node), \(actor), \(request), \(now.pgValue))
                RETURNING id
                """, logger: logger).collect()
            try await notify(.request, c)
            return try rows[0].decode(Int64.self)
        }
    }

    /// The oldest request no leader has taken, now taken by `node`; nil when none waits.
    public func takeRequest(node: String, now: Date) async throws -> ClusterRequest? {
        try await write("taking an operator's request") { [self] c in
            try await c.query("""
                UPDATE requests SET taken_by = \(node), taken_at = \(now.pgValue)
                WHERE id = (SELECT id FROM requests WHERE taken_by IS NULL AND done_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.requestColumns)
                """, logger: logger).collect().first.map(Self.request)
        }
    }

    /// Records the leader's answer to a request it took.
    public func finishRequest(_ id: Int64, ok: Bool, answer: String, now: Date) async throws {
        try await write("answering an operator's request") { [self] c in
            try await c.query("UPDATE requests SET done_at = \(now.pgValue), ok = \(ok), answer = \(answer) WHERE id = \(id)", logger: logger)
            try await notify(.request, c)
        }
    }

    /// Withdraws a request no leader has taken yet (the operator stopped waiting). False when a
    /// leader took it meanwhile: it is being carried out.
    public func withdrawRequest(_ id: Int64, reason: String, now: Date) async throws -> Bool {
        try await write("withdrawing an operator's request") { [self] c in
            !(try await c.query("""
                UPDATE requests SET done_at = \(now.pgValue), ok = false, answer = \(reason)
                WHERE id = \(id) AND taken_by IS NULL AND done_at IS NULL RETURNING id
                """, logger: logger).collect().isEmpty)
        }
    }

    public func request(_ id: Int64) async throws -> ClusterRequest? {
        try await rows("reading an operator's request", "SELECT \(unescaped: Self.requestColumns) FROM requests WHERE id = \(id)")
            .first.map(Self.request)
    }

    static let requestColumns = "id, node, actor, request, created_at, taken_by, done_at, ok, answer"

    static func request(_ row: PostgresRow) throws -> ClusterRequest {
        let (id, node, actor, request, created, takenBy, done, ok, answer) =
            try row.decode((Int64, String, String, String, Double, String?, Double?, Bool?, String?).self)
        return ClusterRequest(id: id, node: node, actor: actor, request: request, createdAt: Date(pgValue: created),
                              takenBy: takenBy, doneAt: done.map(Date.init(pgValue:)), ok: ok, answer: answer)
    }

    // MARK: Signals

    /// Sends `signal` to every listening node when the surrounding transaction commits.
    func notify(_ signal: ClusterSignal, _ c: PostgresConnection) async throws {
        try await c.query("SELECT pg_notify(\(Self.signalChannel), \(signal.rawValue))", logger: logger)
    }

    /// LISTENs on one connection of its own and calls `received` for each signal, until the
    /// connection fails (then it throws) or the task is cancelled. Signals are hints: a node that
    /// misses one (it was reconnecting) still finds the change by polling.
    public func listen(_ received: @escaping @Sendable (ClusterSignal) -> Void) async throws {
        do {
            try await client.withConnection { [logger] connection in
                try await connection.listen(on: Self.signalChannel) { notifications in
                    logger.debug("listening for other nodes' signals")
                    for try await n in notifications {
                        if let signal = ClusterSignal(rawValue: n.payload) { received(signal) }
                    }
                }
            }
        } catch {
            throw Self.mapped(error, "listening for other nodes' signals", location)
        }
    }
}
