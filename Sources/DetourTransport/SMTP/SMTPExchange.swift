import CCurl
import CurlShim
import Foundation
import Synchronization

/// One message going over an `SMTPConnection`: the bytes libcurl reads, the server replies it
/// collects, and the command they answered. Used by one perform on the connection's thread;
/// only `cancelled` is shared with the caller.
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

    init(from: String, recipients: [String], message: Data) {
        self.from = from
        self.recipients = recipients
        self.message = message
    }

    var replies: [SMTPReply] { reader.replies }

    /// Points the handle's callbacks at this exchange; `detach` undoes it.
    func attach(to easy: CurlEasy) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        easy.set(CURLOPT_READDATA, pointer: me)
        easy.set(CURLOPT_DEBUGDATA, pointer: me)
        easy.set(CURLOPT_XFERINFODATA, pointer: me)
        easy.set(CURLOPT_INFILESIZE_LARGE, offset: Int64(message.count))
    }

    static func detach(from easy: CurlEasy) {
        easy.set(CURLOPT_READDATA, pointer: nil)
        easy.set(CURLOPT_DEBUGDATA, pointer: nil)
        easy.set(CURLOPT_XFERINFODATA, pointer: nil)
    }

    /// Installs the callbacks once per handle; they find the current exchange through the data pointers.
    static func installCallbacks(on easy: CurlEasy) {
        detour_curl_setopt_read_function(easy.raw) { buffer, size, count, context in
            guard let buffer, let context else { return DETOUR_CURL_READFUNC_ABORT }
            return Unmanaged<SMTPExchange>.fromOpaque(context).takeUnretainedValue()
                .read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
        }
        detour_curl_setopt_debug_function(easy.raw) { _, type, data, size, context in
            guard let data, let context else { return 0 }
            let exchange = Unmanaged<SMTPExchange>.fromOpaque(context).takeUnretainedValue()
            if type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT {
                let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
                exchange.observe(text, incoming: type == CURLINFO_HEADER_IN)
            }
            return 0
        }
        detour_curl_setopt_xferinfo_function(easy.raw) { context, _, _, _, _ in
            guard let context else { return 0 }
            return Unmanaged<SMTPExchange>.fromOpaque(context).takeUnretainedValue()
                .cancelled.load(ordering: .acquiring) ? 1 : 0
        }
        easy.set(CURLOPT_VERBOSE, true)  // the debug callback only runs in verbose mode
        easy.set(CURLOPT_NOPROGRESS, false)  // the progress callback notices cancellation
    }

    private func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if cancelled.load(ordering: .acquiring) { return DETOUR_CURL_READFUNC_ABORT }
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
    private func observe(_ text: String, incoming: Bool) {
        if !incoming {
            let upper = text.uppercased()
            if inAuthentication && !upper.hasPrefix("AUTH") {
                return  // a credential line answering a 334 challenge
            }
            lastRecipient = nil
            if upper.hasPrefix("RCPT TO:") {
                lastCommand = "RCPT TO"
                let address = text.dropFirst(8).trimmingCharacters(in: .whitespacesAndNewlines)
                lastRecipient = address.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
            } else {
                lastCommand = String(upper.prefix { $0.isLetter }.prefix(8))
            }
            inAuthentication = lastCommand == "AUTH"
            return
        }
        let before = reader.replies.count
        reader.feed(text)
        for reply in reader.replies[before...] {
            if reply.code != 334 { inAuthentication = false }
            if reply.code >= 400 {
                failure = (reply, lastCommand, lastCommand == "RCPT TO" ? lastRecipient : nil)
            }
        }
    }
}
