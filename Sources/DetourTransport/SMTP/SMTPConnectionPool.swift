import Foundation
import Logging

/// Up to `maxConnections` reused connections to one SMTP server, shared by every sender of a
/// channel, with an optional rate limit. Messages go out over whichever connection is free;
/// connections are opened only as load needs them and stay open for the next message.
public actor SMTPConnectionPool {
    public nonisolated let settings: SMTPSettings
    public nonisolated let maxConnections: Int
    private let logger: Logger
    private let limiter: (any MessageRateLimiter)?
    private var idle: [SMTPConnection] = []
    private var opened = 0
    private var waiters: [CheckedContinuation<SMTPConnection?, Never>] = []
    private var closed = false

    /// - Parameters:
    ///   - maxConnections: the most connections open at once (at least 1).
    ///   - rateLimit: how fast messages may go out across all connections; nil for no limit.
    ///   - clock: the clock the rate limit runs on.
    public init<C: Clock>(settings: SMTPSettings, maxConnections: Int, rateLimit: SMTPRateLimit? = nil,
                          clock: C = ContinuousClock(), logger: Logger) where C.Duration == Duration {
        self.settings = settings
        self.maxConnections = max(1, maxConnections)
        self.logger = logger
        limiter = rateLimit.map { TokenBucket($0, clock: clock) }
    }

    /// Sends one message over a free connection, waiting for one (and for the rate limit) first.
    /// Throws like `SMTPConnection.send`.
    public func send(from: String, to recipients: [String], message: Data) async throws(SMTPError) -> SMTPReply {
        let server = redactedURL(settings.url)
        if let limiter {
            do {
                try await limiter.take()
            } catch {
                throw SMTPError(kind: .cancelled, retryable: true, message: "sending to \(server) was cancelled")
            }
        }
        guard let connection = await checkOut() else {
            throw SMTPError(kind: .cancelled, retryable: true, message: "the pool for \(server) is closed")
        }
        let result: Result<SMTPReply, SMTPError>
        do {
            result = .success(try await connection.send(from: from, to: recipients, message: message))
        } catch {
            result = .failure(error)
        }
        checkIn(connection)
        return try result.get()
    }

    /// Closes every connection; sends waiting for one, and later sends, fail as `.cancelled`.
    public func close() async {
        closed = true
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting { waiter.resume(returning: nil) }
        let connections = idle
        idle.removeAll()
        for connection in connections { await connection.close() }
    }

    /// How many connections are open (idle or busy).
    public var openConnections: Int { opened }

    private func checkOut() async -> SMTPConnection? {
        if closed { return nil }
        if let connection = idle.popLast() { return connection }
        if opened < maxConnections {
            opened += 1
            logger.debug("opening SMTP connection", metadata: [
                "smtp.server": "\(redactedURL(settings.url))", "smtp.connections": "\(opened)",
            ])
            return SMTPConnection(settings: settings, logger: logger)
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func checkIn(_ connection: SMTPConnection) {
        if closed {
            opened -= 1  // dropping the last reference closes it
        } else if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: connection)
        } else {
            idle.append(connection)
        }
    }
}

/// Something that paces messages; the pool's seam for its token bucket.
protocol MessageRateLimiter: Sendable {
    func take() async throws
}

extension TokenBucket: MessageRateLimiter {}
