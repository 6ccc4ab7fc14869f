import Foundation
import Testing
import TestKit
@testable import DetourTransport

@Suite(.timeLimit(.minutes(1)))
struct SMTPConnectionTests {
    @Test func plainMessageArrivesByteForByte() async throws {
        let server = try SMTPStandIn()
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        let message = testMessage(1)
        let reply = try await connection.send(from: "shop@example.test", to: ["customer@example.test"], message: message)
        #expect(reply.code == 250)
        #expect(reply.text == "2.0.0 Ok: queued as M1")
        let received = try #require(server.messages().first)
        #expect(received.data == message)
        #expect(received.from == "shop@example.test")
        #expect(received.recipients == ["customer@example.test"])
        #expect(!received.tls)
    }

    @Test func requiredStartTLSNeverDowngrades() async throws {
        let server = try SMTPStandIn()
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .required), logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
            Issue.record("sent without TLS")
        } catch {
            #expect(error.kind == .startTLSUnavailable)
            #expect(!error.retryable)
            #expect(error.message.contains(server.url))
        }
        #expect(server.messages().isEmpty)
    }

    @Test func optionalStartTLSSendsInTheClearWhenNotOffered() async throws {
        let server = try SMTPStandIn()
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .optional), logger: quietLogger)
        _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
        #expect(server.messages().first?.tls == false)
    }

    @Test func startTLSWithTheTestCASucceeds() async throws {
        let server = try SMTPStandIn(["--starttls"])
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .required, caFile: server.caFile),
                                        logger: quietLogger)
        let message = testMessage(2)
        _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: message)
        let received = try #require(server.messages().first)
        #expect(received.tls)
        #expect(received.data == message)
    }

    @Test func implicitTLSWithTheTestCASucceeds() async throws {
        let server = try SMTPStandIn(["--implicit-tls"])
        let url = "smtps://127.0.0.1:\(server.server.port)"
        let connection = SMTPConnection(settings: SMTPSettings(url: url, caFile: server.caFile), logger: quietLogger)
        for number in 1...3 {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage(number))
        }
        #expect(server.messages().map(\.data) == (1...3).map { testMessage($0) })
        #expect(server.connectionCount() == 1)
    }

    @Test func startTLSWithoutTrustingTheCAFailsPermanently() async throws {
        let server = try SMTPStandIn(["--starttls"])
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .required), logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
            Issue.record("sent to a server with an untrusted certificate")
        } catch {
            #expect(error.kind == .tlsFailure)
            #expect(!error.retryable)
        }
        #expect(server.messages().isEmpty)
    }

    @Test(arguments: ["PLAIN", "LOGIN"])
    func loginWithTheRightPasswordIsAccepted(mechanism: String) async throws {
        let server = try SMTPStandIn(["--auth", "detour:correct horse", "--auth-only", mechanism])
        let settings = SMTPSettings(url: server.url, startTLS: .off, username: "detour", password: "correct horse")
        let connection = SMTPConnection(settings: settings, logger: quietLogger)
        _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
        #expect(server.messages().first?.login == "detour")
    }

    @Test(arguments: ["PLAIN", "LOGIN"])
    func wrongPasswordIsPermanentAndNotShown(mechanism: String) async throws {
        let password = "hunter2-s3cret"
        let server = try SMTPStandIn(["--auth", "detour:correct horse", "--auth-only", mechanism])
        let settings = SMTPSettings(url: server.url, startTLS: .off, username: "detour", password: password)
        let connection = SMTPConnection(settings: settings, logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
            Issue.record("sent with a wrong password")
        } catch {
            #expect(error.kind == .authenticationFailed)
            #expect(error.code == 535)
            #expect(!error.retryable)
            let everything = "\(error) \(error.reply) \(error.message) \(String(reflecting: error)) \(settings)"
            #expect(!everything.contains(password))
            #expect(!everything.contains(Data(password.utf8).base64EncodedString()))
            #expect(!everything.contains(Data("\0detour\0\(password)".utf8).base64EncodedString()))
            #expect(error.message == "\(server.url)/ answered AUTH with 535 5.7.8 Authentication credentials invalid")
        }
        #expect(server.messages().isEmpty)
    }

    @Test func aUsernameForAServerWhoseEHLOOffersNoAUTHFailsAtConnectAndSendsNothing() async throws {
        // The usual case: AUTH only after STARTTLS, and STARTTLS turned off. Before, libcurl skipped
        // the login without a word and the server refused MAIL FROM with 530.
        let password = "hunter2-s3cret"
        let server = try SMTPStandIn(["--starttls", "--auth", "detour:\(password)", "--auth-after-tls"])
        let settings = SMTPSettings(url: server.url, startTLS: .off, username: "detour", password: password)
        let connection = SMTPConnection(settings: settings, logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
            Issue.record("sent without the login")
        } catch {
            #expect(error.kind == .authenticationUnavailable)
            #expect(error.code == nil)
            #expect(!error.retryable)
            #expect(error.message.hasPrefix("\(server.url)/ does not offer AUTH (its EHLO offers "))
            #expect(error.message.contains("STARTTLS"))
            #expect(error.message.hasSuffix(", but a username is set, so nothing was sent; servers often offer AUTH only after STARTTLS, so set starttls: required"))
            let everything = "\(error) \(String(reflecting: error))"
            #expect(!everything.contains(password) && !everything.contains(Data(password.utf8).base64EncodedString()))
        }
        await connection.close()
        #expect(server.reads().isEmpty, "MAIL FROM was never sent")
        #expect(server.messages().isEmpty)
    }

    @Test func aUsernameForAServerWithoutAnyLoginIsRefusedRatherThanIgnored() async throws {
        let server = try SMTPStandIn()
        let settings = SMTPSettings(url: server.url, startTLS: .off, username: "detour", password: "correct horse")
        let connection = SMTPConnection(settings: settings, logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
            Issue.record("sent without the login that was configured")
        } catch {
            #expect(error.kind == .authenticationUnavailable)
            #expect(!error.retryable)
            #expect(error.message.contains("does not offer AUTH"))
            #expect(error.message.hasSuffix("if the server needs no login, remove its username and password; else check its address and port (submission is usually 587, with STARTTLS)"))
        }
        await connection.close()
        #expect(server.messages().isEmpty)
    }

    @Test func aLoginOfferedOnlyAfterStartTLSSucceedsWithStartTLS() async throws {
        let server = try SMTPStandIn(["--starttls", "--auth", "detour:correct horse", "--auth-after-tls"])
        let settings = SMTPSettings(url: server.url, startTLS: .required, username: "detour", password: "correct horse",
                                    caFile: server.caFile)
        let connection = SMTPConnection(settings: settings, logger: quietLogger)
        _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
        await connection.close()
        let received = try #require(server.messages().first)
        #expect(received.login == "detour")
        #expect(received.tls)
    }

    @Test func aRejectionSaysTheReplyOnce() async throws {
        let server = try SMTPStandIn(["--tempfail-first", "1"])
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage(1))
            Issue.record("the first attempt should get 451")
        } catch {
            #expect(error.description == "rejected: \(server.url)/ answered DATA with 451 4.3.0 Mailbox busy, try again later (retryable)")
        }
        await connection.close()
    }

    @Test func temporaryFailureIsRetryableAndKeepsTheReply() async throws {
        let server = try SMTPStandIn(["--tempfail-first", "1"])
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage(1))
            Issue.record("the first attempt should get 451")
        } catch {
            #expect(error.kind == .rejected)
            #expect(error.code == 451)
            #expect(error.reply == "4.3.0 Mailbox busy, try again later")
            #expect(error.retryable)
        }
        let reply = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage(1))
        #expect(reply.code == 250)
        #expect(server.messages().count == 1)
    }

    @Test func rejectedRecipientIsPermanentAndNamed() async throws {
        let server = try SMTPStandIn(["--reject", "gone@example.test"])
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["gone@example.test"], message: testMessage())
            Issue.record("the recipient should be refused")
        } catch {
            #expect(error.kind == .rejected)
            #expect(error.code == 550)
            #expect(error.reply.contains("mailbox unavailable"))
            #expect(error.recipient == "gone@example.test")
            #expect(!error.retryable)
        }
        // The connection is still usable afterwards.
        let reply = try await connection.send(from: "shop@example.test", to: ["ok@example.test"], message: testMessage())
        #expect(reply.code == 250)
    }

    @Test func twentyMessagesShareOneTCPConnection() async throws {
        let server = try SMTPStandIn()
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        for number in 1...20 {
            _ = try await connection.send(from: "shop@example.test", to: ["c\(number)@example.test"],
                                          message: testMessage(number))
        }
        let received = server.messages()
        #expect(received.count == 20)
        #expect(Set(received.map(\.peer)).count == 1)
        #expect(server.connectionCount() == 1)
        #expect(received.map(\.data) == (1...20).map { testMessage($0) })
    }

    @Test func unreachableServerIsRetryable() async throws {
        let server = try SMTPStandIn()
        let url = server.url
        server.server.stop()
        let connection = SMTPConnection(settings: SMTPSettings(url: url, startTLS: .off), logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
            Issue.record("sent to a stopped server")
        } catch {
            #expect(error.kind == .connectFailure)
            #expect(error.retryable)
            #expect(error.code == nil)
        }
    }

    @Test func silentServerTimesOutRetryably() async throws {
        let hole = try LocalServer(script: "tcp_blackhole.py", arguments: ["30"])
        let settings = SMTPSettings(url: "smtp://127.0.0.1:\(hole.port)", startTLS: .off,
                                    connectTimeout: .seconds(1), timeout: .seconds(1))
        let connection = SMTPConnection(settings: settings, logger: quietLogger)
        let started = ContinuousClock.now
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["c@example.test"], message: testMessage())
            Issue.record("a silent server cannot accept mail")
        } catch {
            #expect(error.kind == .timeout)
            #expect(error.retryable)
        }
        #expect(ContinuousClock.now - started < .seconds(15))
    }

    @Test func cancellingTheTaskAbandonsTheMessagePromptly() async throws {
        let hole = try LocalServer(script: "tcp_blackhole.py", arguments: ["30"])
        let settings = SMTPSettings(url: "smtp://127.0.0.1:\(hole.port)", startTLS: .off,
                                    connectTimeout: .seconds(30), timeout: .seconds(30))
        let connection = SMTPConnection(settings: settings, logger: quietLogger)
        let task = Task { () -> SMTPError? in
            do {
                _ = try await connection.send(from: "s@example.test", to: ["c@example.test"], message: testMessage())
                return nil
            } catch {
                return error as? SMTPError
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        task.cancel()
        let error = try await within(.seconds(15)) { await task.value }
        #expect(error?.kind == .cancelled)
        #expect(error?.retryable == true)
        #expect(ContinuousClock.now - started < .seconds(10), "cancelled, not waited out (30s hole)")
    }

    @Test func addressesWithLineBreaksAreRefusedBeforeConnecting() async throws {
        let server = try SMTPStandIn()
        let connection = SMTPConnection(settings: SMTPSettings(url: server.url, startTLS: .off), logger: quietLogger)
        do {
            _ = try await connection.send(from: "shop@example.test", to: ["a@example.test>\r\nRCPT TO:<b@x.test"],
                                          message: testMessage())
            Issue.record("an address with CRLF was sent")
        } catch {
            #expect(error.kind == .invalidRequest)
            #expect(!error.retryable)
        }
        #expect(server.connectionCount() == 0)
    }
}
