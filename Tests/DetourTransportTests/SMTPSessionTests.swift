import Foundation
import Testing
import TestKit
@testable import DetourTransport

/// The mail transaction Detour runs over a connection libcurl opened: pipelining, dot-stuffing,
/// recovery from refusals, and connections that never wait on one another.
@Suite(.timeLimit(.minutes(1)))
struct SMTPSessionTests {
    @Test func aPipeliningServerGetsTheEnvelopeInOneWriteAndEveryMessageIntact() async throws {
        let server = try SMTPStandIn(["--pipelining"])
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        for number in 1...5 {
            let reply = try await connection.send(from: "shop@example.test", to: ["c\(number)@example.test", "copy@example.test"],
                                                  message: testMessage(number))
            #expect(reply.code == 250)
        }
        await connection.close()
        #expect(server.messages().map(\.data) == (1...5).map { testMessage($0) })
        #expect(server.messages().first?.recipients == ["c1@example.test", "copy@example.test"])
        #expect(server.reads().filter { $0 == "MAIL RCPT RCPT DATA" }.count == 5, "reads: \(server.reads())")
        #expect(server.connectionCount() == 1)
    }

    @Test(arguments: [false, true])
    func pipelinedMessagesGoOverTLSIntact(implicit: Bool) async throws {
        // Several replies come back in one TLS read: libcurl may hold them after the socket is drained.
        let server = try SMTPStandIn(["--pipelining", implicit ? "--implicit-tls" : "--starttls"])
        let url = implicit ? "smtps://127.0.0.1:\(server.server.port)" : server.url
        let connection = SMTPConnection(settings: SMTPSettings(url: url, startTLS: .required, caFile: server.caFile),
                                        logger: quietLogger)
        for number in 1...5 {
            let reply = try await connection.send(from: "shop@example.test", to: ["c\(number)@example.test"], message: testMessage(number))
            #expect(reply.code == 250)
        }
        await connection.close()
        let received = server.messages()
        #expect(received.map(\.data) == (1...5).map { testMessage($0) })
        #expect(implicit || received.allSatisfy { $0.tls })  // the server only flags STARTTLS sessions
        #expect(server.connectionCount() == 1)
    }

    @Test func withoutPipeliningEachCommandWaitsForItsReply() async throws {
        let server = try SMTPStandIn()
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage(1))
        await connection.close()
        #expect(server.reads() == ["MAIL", "RCPT", "DATA"])
        #expect(server.messages().map(\.data) == [testMessage(1)])
    }

    @Test func aRefusedRecipientInAPipelinedEnvelopeIsNamedAndTheConnectionCarriesOn() async throws {
        let server = try SMTPStandIn(["--pipelining", "--reject", "gone@example.test"])
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["gone@example.test"], message: testMessage(1))
            Issue.record("the only recipient was refused")
        } catch {
            #expect(error.kind == .rejected)
            #expect(error.code == 550)
            #expect(error.recipient == "gone@example.test")
            // The server's reply quotes the address, so the message does not say it again.
            #expect(error.message == "\(server.url)/ answered RCPT TO with 550 5.1.1 <gone@example.test>: Recipient address rejected: mailbox unavailable")
            #expect(!error.retryable)
        }
        let reply = try await connection.send(from: "shop@example.test", to: ["ok@example.test"], message: testMessage(2))
        #expect(reply.code == 250)
        await connection.close()
        #expect(server.messages().map(\.recipients) == [["ok@example.test"]])
        #expect(server.connectionCount() == 1)
    }

    @Test func aServerSlowToAcceptOneMessageDoesNotHoldUpTheOtherConnections() async throws {
        // Every connection's final reply takes a second. Four messages on four connections must all
        // be with the server at once, not one after another (libcurl's own SMTP transfer would wait
        // out each reply before serving the next connection of its thread).
        let server = try SMTPStandIn(["--pipelining", "--data-delay", "1"])
        let pool = SMTPConnectionPool(settings: SMTPSettings(url: server.url, startTLS: .off),
                                      maxConnections: 4, logger: quietLogger)
        let codes = try await withThrowingTaskGroup(of: Int.self) { group in
            for number in 1...4 {
                group.addTask {
                    try await pool.send(from: "shop@example.test", to: ["c\(number)@example.test"], message: testMessage(number)).code
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        await pool.close()
        #expect(codes == [250, 250, 250, 250])
        let times = server.dataTimes()
        #expect(times.count == 4)
        if let first = times.min(), let last = times.max() {
            #expect(last - first < 0.5, "the ends of data reached the server \(last - first) s apart")
        }
    }

    @Test func aConnectionTheServerClosedWhileIdleIsReplacedWithoutLosingTheNextMessage() async throws {
        let server = try SMTPStandIn(["--idle-timeout", "0.5"])
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage(1))
        try await Task.sleep(for: .milliseconds(1200))
        let reply = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage(2))
        #expect(reply.code == 250)
        await connection.close()
        #expect(server.messages().map(\.data) == [testMessage(1), testMessage(2)])
        #expect(server.connectionCount() == 2)
    }

    @Test(arguments: [
        ("plain\r\n", "plain\r\n.\r\n"),
        (".starts with a dot\r\n", "..starts with a dot\r\n.\r\n"),
        ("a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"),
        ("a\r\n..two\r\n", "a\r\n...two\r\n.\r\n"),
        ("no line end", "no line end\r\n.\r\n"),
        ("", ".\r\n"),
        ("mid.dot and a\r\n. at a line start", "mid.dot and a\r\n.. at a line start\r\n.\r\n"),
    ])
    func messagesAreDotStuffedAndEndWithALoneDot(input: String, expected: String) {
        var out: [UInt8] = Array("DATA\r\n".utf8)
        SMTPSession.appendDotStuffed(Data(input.utf8), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "DATA\r\n" + expected)
    }

    @Test func repliesSplitAcrossReadsAreJoined() {
        var reader = SMTPReplyReader()
        for chunk in ["250-first li", "ne\r\n250 second\r", "\n354 go", " ahead\r\n"] {
            var text = chunk
            text.withUTF8 { reader.feedStream(UnsafeRawBufferPointer($0)) }
        }
        #expect(reader.take() == [SMTPReply(code: 250, text: "first line\nsecond"), SMTPReply(code: 354, text: "go ahead")])
        #expect(reader.take().isEmpty)
    }
}
