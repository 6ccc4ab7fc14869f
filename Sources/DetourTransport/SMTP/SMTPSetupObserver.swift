import CCurl
import CurlShim

/// Watches libcurl open one connection: the replies (for the error when it fails), what the last
/// EHLO offered, and whether the loop gave up on it. Command lines are only used for their verb:
/// AUTH lines and the lines answering the server's 334 challenges carry the credentials and are
/// never stored.
final class SMTPSetupObserver {
    private var reader = SMTPReplyReader()
    private var lastCommand = ""
    private var inAuthentication = false
    /// The last 4xx/5xx reply while connecting.
    private(set) var refusal: SMTPRefusal?
    /// Keywords of the last EHLO reply ("PIPELINING", "SIZE", "STARTTLS"…), upper-cased.
    private(set) var capabilities: Set<String> = []
    /// Whether the server agreed to STARTTLS (220), so that the connection is now encrypted.
    private(set) var startedTLS = false
    /// Whether the server accepted a login (235 to AUTH).
    private(set) var authenticated = false
    /// Set by the loop to make libcurl abort the connection at its next progress check.
    var abandoned = false

    func install(on easy: CurlEasy) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        easy.set(CURLOPT_DEBUGDATA, pointer: me)
        easy.set(CURLOPT_XFERINFODATA, pointer: me)
        detour_curl_setopt_debug_function(easy.raw) { _, type, data, size, context in
            guard let data, let context, type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT else { return 0 }
            Unmanaged<SMTPSetupObserver>.fromOpaque(context).takeUnretainedValue()
                .observe(UnsafeRawBufferPointer(start: data, count: size), incoming: type == CURLINFO_HEADER_IN)
            return 0
        }
        detour_curl_setopt_xferinfo_function(easy.raw) { context, _, _, _, _ in
            guard let context else { return 0 }
            return Unmanaged<SMTPSetupObserver>.fromOpaque(context).takeUnretainedValue().abandoned ? 1 : 0
        }
        easy.set(CURLOPT_VERBOSE, true)  // the debug callback only runs in verbose mode
        easy.set(CURLOPT_NOPROGRESS, false)  // the progress callback aborts an abandoned connection
    }

    private func observe(_ bytes: UnsafeRawBufferPointer, incoming: Bool) {
        guard incoming else {
            let verb = Self.verb(bytes)
            if inAuthentication && verb != "AUTH" {
                return  // a credential line answering a 334 challenge
            }
            lastCommand = verb
            inAuthentication = verb == "AUTH"
            return
        }
        reader.feed(bytes)
        for reply in reader.take() {
            if reply.code != 334 { inAuthentication = false }
            if reply.code >= 400 {
                refusal = SMTPRefusal(reply: reply, command: lastCommand, recipient: nil)
            } else if lastCommand == "STARTTLS" && reply.code == 220 {
                startedTLS = true
            } else if lastCommand == "AUTH" && reply.code == 235 {
                authenticated = true
            } else if lastCommand == "EHLO" && reply.code == 250 {
                capabilities = Set(reply.text.split(separator: "\n").dropFirst().compactMap {
                    $0.split(separator: " ").first.map { $0.uppercased() }
                })
            }
        }
    }

    /// The command's leading letters, upper-cased, at most 8 ("EHLO", "AUTH", "STARTTLS").
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
}
