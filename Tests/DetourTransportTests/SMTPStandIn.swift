import Foundation
import TestKit

/// A real SMTP server for one test (`Tests/Servers/smtp_server.py`), and what it received.
final class SMTPStandIn: @unchecked Sendable {
    struct Received {
        let peer: Int
        let from: String
        let recipients: [String]
        let data: Data
        let tls: Bool
        let login: String?
    }

    let server: LocalServer
    let dir: TempDir
    var url: String { "smtp://127.0.0.1:\(server.port)" }
    var caFile: String { dir.file("ca.pem") }

    init(_ arguments: [String] = []) throws {
        dir = try TempDir("transport-smtp")
        server = try LocalServer(script: "smtp_server.py", arguments: ["--dir", dir.path] + arguments)
    }

    /// Every accepted message, oldest first.
    func messages() -> [Received] {
        lines("messages.jsonl").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let data = (object["data_b64"] as? String).flatMap({ Data(base64Encoded: $0) }) else { return nil }
            return Received(peer: object["peer"] as? Int ?? 0, from: object["mail_from"] as? String ?? "",
                            recipients: object["rcpt_tos"] as? [String] ?? [], data: data,
                            tls: object["tls"] as? Bool ?? false, login: object["login"] as? String)
        }
    }

    /// How many TCP connections the server accepted.
    func connectionCount() -> Int { lines("connections.log").count }

    /// The envelope commands of each read the server made, e.g. "MAIL RCPT DATA" for a pipelined envelope.
    func reads() -> [String] { lines("reads.log") }

    /// When each message's end of data reached the server, in seconds on its monotonic clock.
    func dataTimes() -> [Double] { lines("data_times.log").compactMap(Double.init) }

    private func lines(_ name: String) -> [String] {
        guard let text = try? String(contentsOfFile: dir.file(name), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }
}

/// A small message with CRLF line ends, numbered so each is distinct.
func testMessage(_ number: Int = 1, to recipient: String = "customer@example.test") -> Data {
    Data(("From: Shop <shop@example.test>\r\nTo: \(recipient)\r\nSubject: We moved to email #\(number)\r\n"
        + "Message-ID: <m\(number)@detour.test>\r\n\r\nFacebook is down; reply here.\r\n"
        + ".A line starting with a dot\r\n").utf8)
}
