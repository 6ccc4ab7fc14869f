@testable import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Logging
import Testing
import TestKit

/// The Twilio sender against a stand-in that checks requests as Twilio does and answers with its errors.
@Suite(.timeLimit(.minutes(1)))
struct TwilioSMSTests {
    static let sid = "AC0123456789abcdef0123456789abcdef"
    static let token = "twilio-token-canary-5f3a"
    let dir: TempDir
    let client = CurlHTTPClient(logger: webhookTestLogger)

    init() throws { dir = try TempDir("twilio") }

    func standIn(_ extra: [String: Any] = [:]) throws -> (LocalServer, String) {
        var config: [String: Any] = ["account_sid": Self.sid, "auth_token": Self.token, "invalid": ["+15005550001"], "stopped": ["+447700900666"]]
        config.merge(extra) { _, new in new }
        let file = dir.file("twilio-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: file))
        return (try LocalServer(script: "twilio_server.py", arguments: [file]), file)
    }

    func sender(_ server: LocalServer, token: String = token, from: String? = "+447700900100", service: String? = nil) -> TwilioSMS {
        TwilioSMS(settings: .init(baseURL: "http://127.0.0.1:\(server.port)", accountSID: Self.sid,
                                  authToken: Secret(token, origin: "env:TWILIO_TOKEN"), from: from, messagingServiceSID: service,
                                  allowPrivateTargets: true), client: client)
    }

    func requests(_ file: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: file + ".log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    func attempt(_ s: TwilioSMS, to: String, body: String = "Rosie's: Instagram is down. Call 0161 496 0000") async -> Result<DeliveryReceipt, DeliveryError> {
        do { return .success(try await s.send(to: to, body: body, logger: webhookTestLogger)) } catch { return .failure(error) }
    }

    @Test func aTextGoesOutAsTwiliosFormWithBasicAuthAndTheSidIsTheReply() async throws {
        let (server, file) = try standIn()
        let body = "Our \"DMs\" are down & so is booking = call 0161 496 0000 + ask for Rosie. ☎"
        let receipt = try await attempt(sender(server), to: "+447700900123", body: body).get()
        #expect(receipt.reply.hasPrefix("twilio SM") && receipt.reply.hasSuffix(" queued"), "\(receipt.reply)")
        let got = try #require(requests(file).first)
        let form = try #require(got["form"] as? [String: String])
        #expect(form == ["To": "+447700900123", "From": "+447700900100", "Body": body], "the body arrives exactly, & and = included")
        #expect(got["path"] as? String == "/2010-04-01/Accounts/\(Self.sid)/Messages.json")
        #expect(got["status"] as? Int == 201)
    }

    @Test func aMessagingServiceSendsWithoutAFromNumber() async throws {
        let (server, file) = try standIn()
        let receipt = try await attempt(sender(server, from: nil, service: "MG0123456789abcdef0123456789abcdef"), to: "+14155550100").get()
        #expect(receipt.reply.hasSuffix(" accepted"))
        #expect((requests(file).first?["form"] as? [String: String])?["MessagingServiceSid"] == "MG0123456789abcdef0123456789abcdef")
    }

    @Test func aWrongNumberOrARecipientWhoRepliedStopIsPermanent() async throws {
        let (server, _) = try standIn()
        let wrong = try #require(await attempt(sender(server), to: "+15005550001").error)
        #expect(wrong.code == "sms.invalid-number" && !wrong.retryable)
        #expect(wrong.message.contains("21211") && wrong.message.contains("+15005550001"), "\(wrong.message)")
        let stopped = try #require(await attempt(sender(server), to: "+447700900666").error)
        #expect(stopped.code == "sms.opted-out" && !stopped.retryable && stopped.message.contains("21610"))
    }

    @Test func aRateLimitIsTriedAgainAfterRetryAfter() async throws {
        let (server, _) = try standIn(["rate_limited": 1, "retry_after": "3"])
        let limited = try #require(await attempt(sender(server), to: "+447700900123").error)
        #expect(limited.code == "sms.rate" && limited.retryable && limited.retryAfter == .seconds(3), "\(limited)")
        #expect(limited.message.contains("20429"))
        _ = try await attempt(sender(server), to: "+447700900123").get()
    }

    @Test func wrongCredentialsArePermanentAndTheTokenIsNeverShown() async throws {
        let (server, _) = try standIn()
        let wrong = try #require(await attempt(sender(server, token: "not-the-token-canary"), to: "+447700900123").error)
        #expect(wrong.code == "sms.auth" && !wrong.retryable && wrong.message.contains("20003"), "\(wrong.message)")
        #expect(!wrong.message.contains("canary") && !wrong.description.contains("canary"))
    }

    @Test func aServerThatIsNotThereIsTriedAgain() async throws {
        let port = try FreePort.next()
        let s = TwilioSMS(settings: .init(baseURL: "http://127.0.0.1:\(port)", accountSID: Self.sid,
                                          authToken: Secret(Self.token, origin: "inline"), from: "+447700900100",
                                          timeout: .seconds(2), allowPrivateTargets: true), client: client)
        let failed = try #require(await attempt(s, to: "+447700900123").error)
        #expect(failed.retryable && failed.code.hasPrefix("sms."), "\(failed)")
        // A provider address on this machine is refused unless allowed.
        let (server, file) = try standIn()
        let refused = TwilioSMS(settings: .init(baseURL: "http://127.0.0.1:\(server.port)", accountSID: Self.sid,
                                                authToken: Secret(Self.token, origin: "inline"), from: "+447700900100"), client: client)
        #expect(try #require(await attempt(refused, to: "+447700900123").error).code == "sms.refused-target")
        #expect(requests(file).isEmpty, "nothing was sent to a refused address")
    }
}
