import Foundation
import Synchronization

/// One message going to an SMTP server and the caller waiting for the outcome. Read and written
/// only on the pool's loop thread once submitted; `cancelled` is shared with the caller.
final class SMTPExchange: @unchecked Sendable {
    let from: String
    let recipients: [String]
    let message: Data
    let cancelled = Atomic<Bool>(false)
    /// Set once the message has been put back in the queue after a reused connection turned out
    /// to be closed before the server answered anything; it is not put back twice.
    var requeued = false

    /// The caller's continuation, resumed exactly once by `finish`.
    private var continuation: CheckedContinuation<Result<SMTPReply, SMTPError>, Never>?
    private let finished = Atomic<Bool>(false)

    init(from: String, recipients: [String], message: Data) {
        self.from = from
        self.recipients = recipients
        self.message = message
    }

    /// Where the outcome goes; set before the exchange is submitted.
    func await(with continuation: CheckedContinuation<Result<SMTPReply, SMTPError>, Never>) {
        self.continuation = continuation
    }

    /// Hands the outcome to the caller; later calls do nothing.
    func finish(_ result: Result<SMTPReply, SMTPError>) {
        guard finished.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        let waiting = continuation
        continuation = nil
        waiting?.resume(returning: result)
    }
}

/// The reply that refused a message, with the command it answered and, for RCPT TO, the recipient.
struct SMTPRefusal {
    var reply: SMTPReply
    var command: String
    var recipient: String?
}
