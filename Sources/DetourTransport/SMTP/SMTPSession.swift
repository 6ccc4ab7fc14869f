import CCurl
import CurlShim
import Foundation

/// One connection to the SMTP server and the mail transactions on it.
///
/// libcurl opens the connection (`CURLOPT_CONNECT_ONLY`): TCP, the greeting, EHLO, STARTTLS,
/// TLS verification and AUTH all happen inside libcurl, driven by the loop's multi handle. The
/// transactions that follow go over that connection through `curl_easy_send` and
/// `curl_easy_recv`, so TLS stays libcurl's: MAIL FROM, RCPT TO and DATA (sent together when
/// the server offers PIPELINING, RFC 2920), then the dot-stuffed message and its final `.` in
/// one write. libcurl's own SMTP transfer is not used for this because, in the libcurl this
/// project builds on (7.88), a transfer waits for the reply to the final `.` inside
/// `curl_multi_perform` with a blocking poll, which stops every other connection of the loop
/// for that long.
///
/// Touched only on its loop's thread.
final class SMTPSession {
    /// What the next reply answers.
    private enum Expect {
        case mail
        case rcpt(String)
        case data
        case body
        case rset
        case quit

        var isQuit: Bool {
            if case .quit = self { return true }
            return false
        }
    }

    enum Phase {
        /// libcurl is still opening the connection.
        case connecting
        /// Open, with no transaction in progress.
        case idle
        /// A transaction (or the RSET after one) is in progress.
        case busy
        /// QUIT sent; waiting for the goodbye before closing.
        case quitting
    }

    /// What handling a reply, or the socket, led to.
    enum Event {
        /// The message's outcome is known (the session may still be finishing the transaction).
        case finished(SMTPExchange, Result<SMTPReply, SMTPError>)
        /// The connection is no longer usable and must be closed; the message on it, if any,
        /// failed with the error. `beforeAnyReply` is true when the server said nothing to that
        /// message, so a closed reused connection can be told from a refusal.
        case broken(SMTPExchange?, SMTPError, beforeAnyReply: Bool)
    }

    let easy: CurlEasy
    let failures: SMTPFailure
    private(set) var phase: Phase = .connecting
    /// The message this session carries, from the moment it is assigned (even while connecting).
    private(set) var exchange: SMTPExchange?
    /// When the current message's time limit passes, in `DispatchTime` nanoseconds.
    private(set) var deadline: UInt64 = .max
    /// Messages this connection has finished; a closed connection with none is not a stale one.
    private(set) var completed = 0
    private(set) var socket: Int32 = -1

    /// Whether the connection is encrypted (smtps://, or STARTTLS succeeded).
    private var usesTLS = false
    // What the server offered in its last EHLO reply.
    private var pipelining = false
    private var sizeLimitKnown = false
    private var smtpUTF8 = false

    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Watches the connection setup; owned here, passed to libcurl's callbacks as a raw pointer.
    let setup: SMTPSetupObserver

    private var out: [UInt8] = []
    private var outOffset = 0
    private var reader = SMTPReplyReader()
    private var expecting: [Expect] = []
    /// Envelope commands not yet sent, when the server does not pipeline: one goes per reply.
    private var pending: [(bytes: [UInt8], expect: Expect)] = []
    private var refusal: SMTPRefusal?
    private var heardReply = false
    private var receiveBuffer = [UInt8](repeating: 0, count: 16 * 1024)

    init?(settings: SMTPSettings) {
        guard let made = CurlEasy.make() else { return nil }
        easy = made
        failures = SMTPFailure(settings: settings)
        setup = SMTPSetupObserver()
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        made.set(CURLOPT_URL, settings.url)
        made.set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        made.set(CURLOPT_CONNECT_ONLY, 1)
        made.set(CURLOPT_NOSIGNAL, true)
        made.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        let connectLimit = min(settings.connectTimeout, settings.timeout).curlMilliseconds
        made.set(CURLOPT_CONNECTTIMEOUT_MS, connectLimit)
        made.set(CURLOPT_TIMEOUT_MS, connectLimit)
        let useSSL = switch settings.startTLS {
        case .required: CURLUSESSL_ALL
        case .optional: CURLUSESSL_TRY
        case .off: CURLUSESSL_NONE
        }
        made.set(CURLOPT_USE_SSL, Int(useSSL.rawValue))
        made.set(CURLOPT_SSL_VERIFYPEER, settings.verifyTLS)
        made.set(CURLOPT_SSL_VERIFYHOST, settings.verifyTLS ? 2 : 0)
        if let caFile = settings.caFile { made.set(CURLOPT_CAINFO, caFile) }
        if let username = settings.username {
            made.set(CURLOPT_USERNAME, username)
            made.set(CURLOPT_PASSWORD, settings.password ?? "")
        }
        setup.install(on: made)
    }

    deinit {
        curl_easy_cleanup(easy.raw)
        errorBuffer.deallocate()
    }

    /// Puts `exchange` on this session: at once when it is idle, or once connected.
    func assign(_ exchange: SMTPExchange, deadline: UInt64) {
        self.exchange = exchange
        self.deadline = deadline
        if phase == .idle { begin() }
    }

    /// libcurl finished opening the connection: on success the session starts its message, if it
    /// has one; on failure that message's error is returned.
    func connected(_ result: CURLcode) -> SMTPError? {
        guard result == CURLE_OK else {
            return failures.connect(result: result, curlText: String(cString: errorBuffer), refusal: setup.refusal,
                                    cancelled: setup.abandoned)
        }
        var raw: curl_socket_t = -1
        guard detour_curl_getinfo_socket(easy.raw, CURLINFO_ACTIVESOCKET, &raw) == CURLE_OK, raw >= 0 else {
            return failures.lost("libcurl gave no socket for the new connection")
        }
        socket = raw
        usesTLS = setup.startedTLS || failures.settings.url.lowercased().hasPrefix("smtps://")
        let offered = setup.capabilities
        if let username = failures.settings.username, !username.isEmpty, !setup.authenticated {
            // libcurl logs in only when EHLO offers AUTH, and otherwise carries on without a word.
            return failures.loginNotOffered(offered: offered, encrypted: usesTLS)
        }
        pipelining = offered.contains("PIPELINING")
        sizeLimitKnown = offered.contains("SIZE")
        smtpUTF8 = offered.contains("SMTPUTF8")
        easy.set(CURLOPT_VERBOSE, false)  // the setup observer has seen all it needs
        phase = .idle
        if exchange != nil { begin() }
        return nil
    }

    /// Whether bytes are waiting to go out (the loop then also waits for the socket to be writable).
    var wantsWrite: Bool { outOffset < out.count }

    /// Sends the envelope of the assigned message.
    private func begin() {
        guard let exchange else { return }
        phase = .busy
        refusal = nil
        heardReply = false
        var mail = "MAIL FROM:<\(exchange.from)>"
        if sizeLimitKnown { mail += " SIZE=\(exchange.message.count)" }
        if smtpUTF8, !([exchange.from] + exchange.recipients).allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) {
            mail += " SMTPUTF8"
        }
        var commands: [(bytes: [UInt8], expect: Expect)] = [(Array((mail + "\r\n").utf8), .mail)]
        for recipient in exchange.recipients {
            commands.append((Array("RCPT TO:<\(recipient)>\r\n".utf8), .rcpt(recipient)))
        }
        commands.append((Array("DATA\r\n".utf8), .data))
        if pipelining {
            for command in commands {
                out.append(contentsOf: command.bytes)
                expecting.append(command.expect)
            }
            pending = []
        } else {
            out.append(contentsOf: commands[0].bytes)
            expecting.append(commands[0].expect)
            pending = Array(commands.dropFirst())
        }
    }

    /// Says goodbye: QUIT when idle. Returns false when there is nothing to wait for.
    func quit() -> Bool {
        guard phase == .idle else { return false }
        phase = .quitting
        out.append(contentsOf: Array("QUIT\r\n".utf8))
        expecting.append(.quit)
        return true
    }

    /// Writes what it can of the waiting bytes.
    func flush() -> Event? {
        while outOffset < out.count {
            var sent = 0
            let result = out.withUnsafeBytes { bytes in
                curl_easy_send(easy.raw, bytes.baseAddress! + outOffset, bytes.count - outOffset, &sent)
            }
            if result == CURLE_AGAIN { return nil }
            guard result == CURLE_OK else { return broken("sending failed: \(CurlEasy.describe(result))") }
            outOffset += sent
        }
        out.removeAll(keepingCapacity: true)
        outOffset = 0
        return nil
    }

    /// Reads everything the server has sent and acts on each complete reply.
    func receive() -> [Event] {
        var events: [Event] = []
        while true {
            var got = 0
            let result = receiveBuffer.withUnsafeMutableBytes { buffer in
                curl_easy_recv(easy.raw, buffer.baseAddress!, buffer.count, &got)
            }
            if result == CURLE_AGAIN { break }
            guard result == CURLE_OK, got > 0 else {
                if let event = broken(result == CURLE_OK ? "the server closed the connection"
                                                         : "receiving failed: \(CurlEasy.describe(result))") {
                    events.append(event)
                }
                return events
            }
            receiveBuffer.withUnsafeBytes { reader.feedStream(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
            for reply in reader.take() {
                if let event = handle(reply) {
                    events.append(event)
                    if case .broken = event { return events }
                }
            }
            // A short read on a plain socket means it is drained. Over TLS, libcurl hands out one
            // record at a time and may hold more already read from the socket, which a poll would
            // not show: read until libcurl says there is nothing left.
            if got < receiveBuffer.count && !usesTLS { break }
        }
        if let event = flush() { events.append(event) }
        return events
    }

    /// The time limit passed: the message fails and the connection is dropped.
    func expire() -> Event {
        let exchange = exchange
        self.exchange = nil
        return .broken(exchange, failures.timedOut(), beforeAnyReply: false)
    }

    /// The caller gave up on the message: the connection is dropped, since the transaction cannot
    /// be taken back mid-way.
    func abandon() -> SMTPExchange? {
        setup.abandoned = true
        let exchange = exchange
        self.exchange = nil
        return exchange
    }

    private func broken(_ what: String) -> Event? {
        let exchange = exchange
        self.exchange = nil
        let quiet = phase == .quitting || (phase == .idle && exchange == nil)
        phase = .quitting
        if quiet { return .broken(nil, failures.lost(what), beforeAnyReply: true) }
        return .broken(exchange, failures.lost(what), beforeAnyReply: !heardReply)
    }

    private func handle(_ reply: SMTPReply) -> Event? {
        guard !expecting.isEmpty else {
            // Unasked for: a server about to close an idle connection says 421 first.
            return reply.code == 421 ? broken("the server said \(reply.code) \(failures.scrub(reply.text))") : nil
        }
        let expect = expecting.removeFirst()
        heardReply = true
        if reply.code == 421, !expect.isQuit {
            let exchange = exchange
            self.exchange = nil
            phase = .quitting
            let error = failures.refused(refusal ?? SMTPRefusal(reply: reply, command: command(expect), recipient: recipient(expect)))
            return .broken(exchange, error, beforeAnyReply: false)
        }
        switch expect {
        case .mail, .rcpt:
            if reply.code >= 400 {
                if refusal == nil { refusal = SMTPRefusal(reply: reply, command: command(expect), recipient: recipient(expect)) }
                pending.removeAll()  // without pipelining, nothing more is sent for this message
            } else if !pending.isEmpty {
                let next = pending.removeFirst()
                out.append(contentsOf: next.bytes)
                expecting.append(next.expect)
            }
        case .data:
            if reply.code == 354 {
                guard refusal == nil else {
                    // Some recipients were refused and the server still wants the message: the
                    // transaction cannot be called off without sending it, so drop the connection.
                    let exchange = exchange
                    self.exchange = nil
                    phase = .quitting
                    return .broken(exchange, failures.refused(refusal!), beforeAnyReply: false)
                }
                if let exchange { SMTPSession.appendDotStuffed(exchange.message, to: &out) }
                expecting.append(.body)
                return nil
            }
            if refusal == nil { refusal = SMTPRefusal(reply: reply, command: "DATA", recipient: nil) }
        case .body:
            let exchange = exchange
            self.exchange = nil
            completed += 1
            phase = .idle
            deadline = .max
            guard let exchange else { return nil }
            if reply.code >= 400 {
                return .finished(exchange, .failure(failures.refused(SMTPRefusal(reply: reply, command: "DATA", recipient: nil))))
            }
            return .finished(exchange, .success(reply))
        case .rset:
            if reply.code >= 400 { return broken("the server refused RSET with \(reply.code)") }
            phase = .idle
            deadline = .max
            return nil
        case .quit:
            return broken("closed after QUIT")
        }
        guard expecting.isEmpty, pending.isEmpty, let refused = refusal else { return nil }
        // The envelope was refused: the caller hears now, and the connection is reset for the next message.
        let exchange = exchange
        self.exchange = nil
        out.append(contentsOf: Array("RSET\r\n".utf8))
        expecting.append(.rset)
        guard let exchange else { return nil }
        return .finished(exchange, .failure(failures.refused(refused)))
    }

    private func command(_ expect: Expect) -> String {
        switch expect {
        case .mail: "MAIL FROM"
        case .rcpt: "RCPT TO"
        case .data, .body: "DATA"
        case .rset: "RSET"
        case .quit: "QUIT"
        }
    }

    private func recipient(_ expect: Expect) -> String? {
        if case .rcpt(let address) = expect { return address }
        return nil
    }
}
