import Foundation
import Logging
import ServiceLifecycle

/// The unix socket the `detour` CLI talks to the running daemon over (`/run/detour/control.sock`).
///
/// One JSON request per connection, one JSON response back, each a single line (`ControlRequest`,
/// `ControlResponse`); a request this daemon does not understand is answered with a failure that
/// says so, without reaching `handler`. The socket is mode 0660 and owned by `group`, so only that
/// group's members (and root) can use it, and every request reaches `handler` with the caller's
/// uid as the kernel reports it. Connections are served concurrently; a request is limited to
/// 1 MiB and must arrive within `readTimeout`.
///
/// `run()` refuses to start when another daemon answers on the path, replaces a stale socket
/// file left by one that died, and removes the socket file when it returns.
public struct ControlServer: Service {
    public let path: String
    public let group: String?
    /// How long a client has to send its whole request.
    public let readTimeout: Duration
    private let logger: Logger
    private let onListening: (@Sendable () async -> Void)?
    private let handler: @Sendable (ControlRequest, Caller) async -> ControlResponse

    /// - Parameters:
    ///   - path: where the socket is created; a name starting with `@` is an abstract socket (no file).
    ///   - group: the group that may connect; nil keeps the daemon's own group.
    ///   - onListening: called once the socket accepts connections.
    ///   - handler: answers one request; it sees who asked.
    public init(
        path: String,
        group: String?,
        logger: Logger,
        readTimeout: Duration = .seconds(5),
        onListening: (@Sendable () async -> Void)? = nil,
        handler: @escaping @Sendable (ControlRequest, Caller) async -> ControlResponse
    ) {
        self.path = path; self.group = group; self.logger = logger; self.readTimeout = readTimeout
        self.onListening = onListening; self.handler = handler
    }

    public func run() async throws {
        let (path, group) = (self.path, self.group)
        let opened = await offloadBlocking { () -> Result<ControlListener, ControlServerError> in
            do throws(ControlServerError) {
                return .success(try ControlListener.open(path: path, group: group))
            } catch {
                return .failure(error)
            }
        }
        let listener = try opened.get()
        logger.info("control socket listening", metadata: [
            "control.path": "\(path)", "control.group": "\(group ?? "(daemon's group)")",
        ])
        await onListening?()
        await withTaskCancellationOrGracefulShutdownHandler {
            await withDiscardingTaskGroup { tasks in
                for await connection in listener.connections {
                    tasks.addTask { await self.serve(connection) }
                }
            }
        } onCancelOrGracefulShutdown: {
            listener.stop()
        }
        await offloadBlocking { listener.close() }
        logger.info("control socket closed", metadata: ["control.path": "\(path)"])
    }

    /// Reads one request from `fd`, answers it, and closes the connection.
    private func serve(_ fd: Int32) async {
        let deadline = ContinuousClock.now + readTimeout
        let (caller, read) = await offloadBlocking {
            (Caller.peer(of: fd), Posix.readLine(fd, limit: ControlWire.maxRequestBytes, until: deadline))
        }
        let response: ControlResponse
        switch read {
        case .line(let line):
            response = await answer(line, from: caller)
        case .tooLarge:
            logger.warning("control request refused: too large", metadata: ["control.caller": "\(caller.map(\.description) ?? "unknown")"])
            response = .failure("the request is larger than 1 MiB and was refused", code: .badRequest)
        case .timedOut:
            logger.debug("control request not received in time", metadata: ["control.caller": "\(caller.map(\.description) ?? "unknown")"])
            response = .failure("no complete request arrived within \(readTimeout); send one JSON object followed by a newline",
                                code: .badRequest)
        case .empty:
            Posix.closeDescriptor(fd)
            return
        case .failed(let code):
            logger.debug("control connection failed", metadata: ["control.error": "\(Posix.describe(code))"])
            Posix.closeDescriptor(fd)
            return
        }
        let data: Data
        do {
            data = try ControlWire.encode(response)
        } catch {
            logger.error("control response could not be encoded", metadata: ["control.error": "\(error)"])
            data = Data(#"{"code":"failed","error":"the daemon could not encode its answer","ok":false}"#.utf8 + [0x0A])
        }
        let writeDeadline = ContinuousClock.now + .seconds(10)
        let written = await offloadBlocking {
            let ok = Posix.writeAll(fd, data, until: writeDeadline)
            Posix.closeDescriptor(fd)
            return ok
        }
        if !written {
            logger.debug("control response not delivered: the client went away")
        }
    }

    private func answer(_ line: Data, from caller: Caller?) async -> ControlResponse {
        guard let caller else {
            return .failure("the daemon cannot tell who is calling (SO_PEERCRED failed), so it refuses the request")
        }
        switch ControlRequest.decode(line) {
        case .failure(let failure):
            logger.info("control request not understood", metadata: [
                "control.caller": "\(caller)", "control.error": "\(failure.message)",
            ])
            return .failure(failure)
        case .success(let request):
            logger.debug("control request", metadata: ["control.request": "\(request.name.rawValue)", "control.caller": "\(caller)"])
            return await handler(request, caller)
        }
    }
}
