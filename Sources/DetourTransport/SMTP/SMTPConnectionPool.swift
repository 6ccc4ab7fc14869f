import Foundation
import Logging

/// Up to `maxConnections` reused connections to one SMTP server, shared by every sender of a
/// channel, with an optional rate limit. Messages go out in order over whichever connection is
/// free; connections open only as load needs them and stay open for the next message. The
/// connections are shared out between at most one thread per CPU core (`SMTPSessionLoop`), each
/// driving its share; a message goes to the thread with the fewest messages outstanding.
public final class SMTPConnectionPool: Sendable {
    public let settings: SMTPSettings
    public let maxConnections: Int
    private let logger: Logger
    private let limiter: (any MessageRateLimiter)?
    private let loops: [SMTPSessionLoop]
    /// The server's URL without its secrets, for errors and logs; made once, not per message.
    private let server: String

    /// - Parameters:
    ///   - maxConnections: the most connections open at once (at least 1).
    ///   - rateLimit: how fast messages may go out across all connections; nil for no limit.
    ///   - clock: the clock the rate limit runs on.
    public init<C: Clock>(settings: SMTPSettings, maxConnections: Int, rateLimit: SMTPRateLimit? = nil,
                          clock: C = ContinuousClock(), logger: Logger) where C.Duration == Duration {
        self.settings = settings
        self.maxConnections = max(1, maxConnections)
        self.logger = logger
        server = redactedURL(settings.url)
        limiter = rateLimit.map { TokenBucket($0, clock: clock) }
        let connections = max(1, maxConnections)
        let threads = min(connections, max(1, ProcessInfo.processInfo.activeProcessorCount))
        loops = (0..<threads).map { index in
            // 8 connections over 2 threads: 4 and 4; 3 over 2: 2 and 1.
            let share = connections / threads + (index < connections % threads ? 1 : 0)
            return SMTPSessionLoop(settings: settings, maxConnections: share)
        }
    }

    deinit {
        for loop in loops { loop.stop() }
    }

    /// Sends `message` (a complete RFC 5322 message with CRLF line ends) from `from` to `to` over a
    /// free connection, waiting for one (and for the rate limit) first, and returns the server's
    /// reply to the end of DATA. Throws when the server did not accept it for every recipient.
    /// Cancelling the calling task abandons the message at once.
    public func send(from: String, to recipients: [String], message: Data) async throws(SMTPError) -> SMTPReply {
        if let problem = Self.addressProblem(from: from, to: recipients) {
            throw SMTPError(kind: .invalidRequest, retryable: false, message: "cannot send through \(server): \(problem)")
        }
        if let limiter {
            do {
                try await limiter.take()
            } catch {
                throw SMTPError(kind: .cancelled, retryable: true, message: "sending to \(server) was cancelled")
            }
        }
        let exchange = SMTPExchange(from: from, recipients: recipients, message: message)
        let loop = leastBusyLoop()
        loop.outstanding.add(1, ordering: .relaxed)
        defer { loop.outstanding.subtract(1, ordering: .relaxed) }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<SMTPReply, SMTPError>, Never>) in
                exchange.await(with: continuation)
                loop.submit(exchange)
            }
        } onCancel: {
            exchange.cancelled.store(true, ordering: .releasing)
            loop.cancel(exchange)
        }
        switch result {
        case .success(let reply):
            logger.debug("SMTP message accepted", metadata: [
                "smtp.server": "\(server)", "smtp.recipients": "\(recipients.count)", "smtp.reply": "\(reply.code)",
            ])
            return reply
        case .failure(let error):
            logger.debug("SMTP message not accepted", metadata: [
                "smtp.server": "\(server)", "smtp.error.kind": "\(error.kind)",
                "smtp.error": "\(error.message)", "smtp.retryable": "\(error.retryable)",
            ])
            throw error
        }
    }

    private func leastBusyLoop() -> SMTPSessionLoop {
        var loop = loops[0]
        for candidate in loops.dropFirst()
        where candidate.outstanding.load(ordering: .relaxed) < loop.outstanding.load(ordering: .relaxed) {
            loop = candidate
        }
        return loop
    }

    /// Says QUIT on every connection; sends still waiting, and later sends, fail as `.cancelled`.
    public func close() async {
        for loop in loops { await loop.shutdown() }
    }

    /// The most connections that were open at once.
    public var openConnections: Int { loops.reduce(0) { $0 + $1.handlesMade.load(ordering: .relaxed) } }

    static func addressProblem(from: String, to recipients: [String]) -> String? {
        if recipients.isEmpty { return "no recipients" }
        // Bytes first; the slower scan for other line breaks (U+2028, NEL…) only for non-ASCII.
        func bad(_ address: String) -> Bool {
            address.utf8.count > 320 || address.utf8.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0x3C || $0 == 0x3E }
                || (!address.utf8.allSatisfy { $0 < 0x80 } && address.contains(where: \.isNewline))
        }
        if bad(from) || recipients.contains(where: bad) {
            return "an address contains a line break or angle brackets, or is too long"
        }
        return nil
    }
}

/// Something that paces messages; the pool's seam for its token bucket.
protocol MessageRateLimiter: Sendable {
    func take() async throws
}

extension TokenBucket: MessageRateLimiter {}
