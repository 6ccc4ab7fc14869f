import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Logging
import Testing
import TestKit

/// A logger that drops everything: tests never bootstrap logging.
let emailTestLogger = Logger(label: "detour.test.email", factory: { _ in SwiftLogNoOpLogHandler() })

/// A real SMTP server for one test (`Tests/Servers/smtp_server.py`, aiosmtpd on 127.0.0.1) and what it received.
final class EmailSMTPServer: @unchecked Sendable {
    struct Received {
        let from: String
        let recipients: [String]
        let data: Data
        let tls: Bool
    }

    let server: LocalServer
    let dir: TempDir
    var url: String { "smtp://127.0.0.1:\(server.port)" }

    init(_ arguments: [String] = []) throws {
        dir = try TempDir("channels-email-smtp")
        server = try LocalServer(script: "smtp_server.py", arguments: ["--dir", dir.path, "--lifetime", "120"] + arguments)
    }

    /// Every accepted message, oldest first.
    func messages() -> [Received] {
        guard let text = try? String(contentsOfFile: dir.file("messages.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let data = (object["data_b64"] as? String).flatMap({ Data(base64Encoded: $0) }) else { return nil }
            return Received(from: object["mail_from"] as? String ?? "", recipients: object["rcpt_tos"] as? [String] ?? [],
                            data: data, tls: object["tls"] as? Bool ?? false)
        }
    }

    /// The SMTP server settings as `detour.yaml` would give them.
    func smtpServer(startTLS: SMTPServer.StartTLS = .off, username: String? = nil, password: String? = nil) -> SMTPServer {
        SMTPServer(name: "test-relay", url: url, startTLS: startTLS, username: username,
                   password: password.map { Secret($0, origin: "inline") }, caFile: nil,
                   verifyTLS: true, maxConnections: 2, rate: nil, timeout: .seconds(10))
    }
}

/// A message as Python's `email` package (policy.default) reads it: an independent RFC 5322/MIME parser.
struct ParsedEmail: Decodable {
    struct Address: Decodable { let name: String; let address: String }
    struct Part: Decodable { let type: String; let charset: String?; let cte: String?; let content: String }
    let contentType: String
    /// Header names and decoded values, in order.
    let headers: [[String]]
    let subject: String?
    let from: [Address]?
    let to: [Address]?
    let replyTo: [Address]?
    let parts: [Part]
    let defects: [String]
    /// The longest line of the raw message in octets, without its CRLF.
    let longestLine: Int
    /// Lines ending in a bare LF or containing a bare CR.
    let bareLineBreaks: Int

    enum CodingKeys: String, CodingKey {
        case contentType = "content_type", headers, subject, from, to, replyTo = "reply_to", parts, defects
        case longestLine = "longest_line", bareLineBreaks = "bare_line_breaks"
    }

    func header(_ name: String) -> [String] {
        headers.filter { $0.first?.lowercased() == name.lowercased() }.compactMap { $0.last }
    }
    var text: String? { parts.first { $0.type == "text/plain" }?.content }
    var html: String? { parts.first { $0.type == "text/html" }?.content }

    private static let script = #"""
    import email, json, sys
    from email import policy
    raw = open(sys.argv[1], "rb").read()
    msg = email.message_from_bytes(raw, policy=policy.default)
    def addresses(name):
        value = msg[name]
        if value is None:
            return None
        return [{"name": a.display_name, "address": a.addr_spec} for a in value.addresses]
    parts = []
    if msg.is_multipart():
        for p in msg.iter_parts():
            parts.append({"type": p.get_content_type(), "charset": p.get_content_charset(),
                          "cte": p["Content-Transfer-Encoding"],
                          # The parser keeps the wire's CRLF inside decoded text; compare with "\n".
                          "content": p.get_content().replace("\r\n", "\n")})
    lines = raw.split(b"\r\n")
    print(json.dumps({
        "content_type": msg.get_content_type(),
        "headers": [[k, str(v)] for k, v in msg.items()],
        "subject": str(msg["Subject"]) if msg["Subject"] is not None else None,
        "from": addresses("From"), "to": addresses("To"), "reply_to": addresses("Reply-To"),
        "parts": parts,
        "defects": [repr(d) for part in msg.walk() for d in part.defects],
        "longest_line": max(len(l) for l in lines),
        "bare_line_breaks": sum(l.count(b"\n") + l.count(b"\r") for l in lines),
    }))
    """#

    /// Parses `data` with Python; waits at most 20 seconds.
    static func parse(_ data: Data) throws -> ParsedEmail {
        let dir = try TempDir("channels-email-parse")
        let file = try dir.write("message.eml", data)
        let process = Process()
        let python = Repo.python
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = (python == "/usr/bin/env" ? ["python3"] : []) + ["-c", script, file]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        return try JSONDecoder().decode(ParsedEmail.self, from: output)
    }
}

/// Rosie's bakery, with an emoji and an umlaut in its name, as a policy would describe its email channel.
enum EmailFixtures {
    static let from = Mailbox(name: "Rosie's Bäckerei 🥐", address: "hello@rosies.example")
    static let replyTo = Mailbox(name: "Rosie Bäcker", address: "rosie@rosies.example")

    static func channel(templates: TemplateRefs = TemplateRefs()) -> EmailChannel {
        EmailChannel(smtp: "test-relay", from: from, replyTo: replyTo, audience: Audience(file: "customers.csv", recipients: []),
                     templates: templates, maxPerCustomer: 2)
    }

    static func context(_ event: MessageEvent = .opened, name: String? = "Zoë", email: String = "zoe@customers.example",
                        message: String = "Instagram is down. Call us or email us to order.",
                        unsubscribe: String? = "https://detour.rosies.example/unsubscribe/tok_123") -> MessageContext {
        MessageContext(event: event, businessID: "rosies-bakery", businessName: "Rosie's Bäckerei 🥐", incidentID: "inc-1",
                       platforms: ["Instagram", "WhatsApp"], since: Date(timeIntervalSince1970: 1_700_000_000),
                       resolvedAt: event == .resolved ? Date(timeIntervalSince1970: 1_700_003_600) : nil, message: message,
                       contacts: [ContactLink(label: "Call us", url: "tel:+441234567890"),
                                  ContactLink(label: "Order online", url: "https://rosies.example/order")],
                       recipientName: name, recipientEmail: email, unsubscribeURL: unsubscribe)
    }

    static func message(_ id: String = "dlv_01HQ7Z3K8M", event: MessageEvent = .opened, name: String? = "Zoë",
                        to email: String = "zoe@customers.example", text: String = "Instagram is down. Call us or email us to order.")
        -> OutgoingMessage {
        OutgoingMessage(deliveryID: id, recipient: email, context: context(event, name: name, email: email, message: text))
    }
}

