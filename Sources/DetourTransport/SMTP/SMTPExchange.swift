import CCurl
import CurlShim
import Foundation
import Synchronization

/// One message going to an SMTP server: the bytes libcurl reads, the server replies it collects,
/// the command they answered, and the caller waiting for the outcome. Read and written only on
/// the pool's loop thread once submitted; `cancelled` is shared with the caller.
final class SMTPExchange: @unchecked Sendable {
    let from: String
    let recipients: [String]
    let message: Data
    let cancelled = Atomic<Bool>(false)

    private var offset = 0
    private var reader = SMTPReplyReader()
    private var lastCommand = ""
    private var lastRecipient: String?
    private var inAuthentication = false
    /// The last reply with a 4xx/5xx code, with the recipient it answered if it answered RCPT TO.
    private(set) var failure: (reply: SMTPReply, command: String, recipient: String?)?

    /// The caller's continuation, resumed exactly once by `finish`.
    private var continuation: CheckedContinuation<Result<SMTPReply, SMTPError>, Never>?
    private let finished = Atomic<Bool>(false)
    /// The RCPT list libcurl reads while the message is in flight.
    private var recipientList: CurlStringList?

    init(from: String, recipients: [String], message: Data) {
        self.from = from
        self.recipients = recipients
        self.message = message
    }

    var replies: [SMTPReply] { reader.replies }

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

    /// Points `easy` at this message: envelope, callbacks' data and size. `detach` undoes it.
    func attach(to easy: CurlEasy) {
        let list = CurlStringList(recipients)
        recipientList = list
        easy.set(CURLOPT_MAIL_FROM, from)
        easy.set(CURLOPT_MAIL_RCPT, list: list.head)
        let me = Unmanaged.passUnretained(self).toOpaque()
        easy.set(CURLOPT_READDATA, pointer: me)
        easy.set(CURLOPT_DEBUGDATA, pointer: me)
        easy.set(CURLOPT_XFERINFODATA, pointer: me)
        easy.set(CURLOPT_INFILESIZE_LARGE, offset: Int64(message.count))
    }

    func detach(from easy: CurlEasy) {
        easy.set(CURLOPT_READDATA, pointer: nil)
        easy.set(CURLOPT_DEBUGDATA, pointer: nil)
        easy.set(CURLOPT_XFERINFODATA, pointer: nil)
        easy.set(CURLOPT_MAIL_RCPT, list: nil)
        recipientList?.free()
        recipientList = nil
    }

    /// Installs the callbacks once per handle; they find the current exchange through the data pointers.
    static func installCallbacks(on easy: CurlEasy) {
        detour_curl_setopt_read_function(easy.raw) { buffer, size, count, context in
            guard let buffer, let context else { return DETOUR_CURL_READFUNC_ABORT }
            return Unmanaged<SMTPExchange>.fromOpaque(context).takeUnretainedValue()
                .read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
        }
        detour_curl_setopt_debug_function(easy.raw) { _, type, data, size, context in
            guard let data, let context, type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT else { return 0 }
            Unmanaged<SMTPExchange>.fromOpaque(context).takeUnretainedValue()
                .observe(UnsafeRawBufferPointer(start: data, count: size), incoming: type == CURLINFO_HEADER_IN)
            return 0
        }
        detour_curl_setopt_xferinfo_function(easy.raw) { context, _, _, _, _ in
            guard let context else { return 0 }
            return Unmanaged<SMTPExchange>.fromOpaque(context).takeUnretainedValue()
                .cancelled.load(ordering: .relaxed) ? 1 : 0
        }
        easy.set(CURLOPT_VERBOSE, true)  // the debug callback only runs in verbose mode
        easy.set(CURLOPT_NOPROGRESS, false)  // the progress callback aborts a cancelled message
    }

    private func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if cancelled.load(ordering: .relaxed) { return DETOUR_CURL_READFUNC_ABORT }
        let count = min(buffer.count, message.count - offset)
        guard count > 0 else { return 0 }
        message.withUnsafeBytes { bytes in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
        }
        offset += count
        return count
    }

    /// Watches the conversation. Only the command verb and RCPT addresses of outgoing lines are
    /// kept: AUTH lines and the lines answering the server's 334 challenges carry the credentials
    /// and are never stored.
    private func observe(_ bytes: UnsafeRawBufferPointer, incoming: Bool) {
        guard incoming else {
            let verb = Self.verb(bytes)
            if inAuthentication && verb != "AUTH" {
                return  // a credential line answering a 334 challenge
            }
            lastRecipient = nil
            if verb == "RCPT", Self.hasPrefixIgnoringCase(bytes, "RCPT TO:") {
                lastCommand = "RCPT TO"
                lastRecipient = Self.address(bytes.dropFirst(8))
            } else {
                lastCommand = verb
            }
            inAuthentication = lastCommand == "AUTH"
            return
        }
        let before = reader.replies.count
        reader.feed(bytes)
        for reply in reader.replies[before...] {
            if reply.code != 334 { inAuthentication = false }
            if reply.code >= 400 {
                failure = (reply, lastCommand, lastCommand == "RCPT TO" ? lastRecipient : nil)
            }
        }
    }

    /// The command's leading letters, upper-cased, at most 8 ("MAIL", "RCPT", "DATA", "AUTH", "STARTTLS").
    private static func verb(_ bytes: UnsafeRawBufferPointer) -> String {
        var letters: [UInt8] = []
        for byte in bytes.prefix(8) {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): letters.append(byte)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): letters.append(byte - 32)
            default: return String(decoding: letters, as: UTF8.self)
            }
        }
        return String(decoding: letters, as: UTF8.self)
    }

    private static func hasPrefixIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        for (byte, want) in zip(bytes, expected) {
            let upper = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 32 : byte
            if upper != want { return false }
        }
        return true
    }

    /// The address of a RCPT TO line: without white space, angle brackets and the line end.
    private static func address(_ rest: Slice<UnsafeRawBufferPointer>) -> String {
        let trimmed = rest.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "<") }
        let end = trimmed.firstIndex { $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: " ") }
        return String(decoding: trimmed[..<(end ?? trimmed.endIndex)], as: UTF8.self)
    }
}
