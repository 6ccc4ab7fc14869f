@testable import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Logging
import Testing
import TestKit

/// The SMS providers besides Twilio, and `rate`: Vonage against a stand-in that answers as Vonage
/// does (HTTP 200 with a status per message), any gateway through `provider: http`.
@Suite(.timeLimit(.minutes(1)))
struct SMSGatewayTests {
    let dir: TempDir
    let client = CurlHTTPClient(logger: webhookTestLogger)
    let network = WebhookNetwork(allowPrivateTargets: true, timeout: .seconds(5))

    init() throws { dir = try TempDir("sms-gateways") }

    static let context = MessageContext(event: .opened, businessID: "salon", businessName: "Rosie's Salon", incidentID: "3", platforms: ["WhatsApp"],
                                        since: Date(timeIntervalSince1970: 1_790_000_000), message: "Call 0161 496 0000 & we'll book you in.",
                                        contacts: [])

    func channel(_ provider: SMSProvider, rate: SendRate? = nil) throws -> SMSSender {
        try SMSSender(settings: SMSChannel(provider: provider, audience: Audience(file: "a.csv", recipients: []), templates: TemplateRefs(),
                                           maxPerCustomer: 2, stopFile: nil, rate: rate),
                      network: network, client: client, logger: webhookTestLogger)
    }

    func send(_ s: SMSSender, to: String = "+447700900123", id: String = "detour-x-3-1-9") async -> Result<DeliveryReceipt, DeliveryError> {
        do { return .success(try await s.deliver(OutgoingMessage(deliveryID: id, recipient: to, context: Self.context))) } catch { return .failure(error) }
    }

    func vonage(_ extra: [String: Any] = [:]) throws -> (SMSSender, String, LocalServer) {
        var config: [String: Any] = ["api_key": "abcd1234", "api_secret": "vonage-secret-canary", "barred": ["447700900666"]]
        config.merge(extra) { _, new in new }
        let file = dir.file("vonage-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: file))
        let server = try LocalServer(script: "vonage_server.py", arguments: [file])
        let provider = SMSProvider.vonage(.init(baseURL: "http://127.0.0.1:\(server.port)", apiKey: "abcd1234",
                                                apiSecret: Secret("vonage-secret-canary", origin: "env:V"), from: "RosiesSalon"))
        return (try channel(provider), file, server)
    }

    func log(_ file: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: file + ".log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    @Test func vonageGetsItsFormAndTheMessageIDIsTheReply() async throws {
        let (sender, file, server) = try vonage()
        defer { withExtendedLifetime(server) {} }
        let receipt = try await send(sender).get()
        #expect(receipt.reply.hasPrefix("vonage ") && receipt.reply.hasSuffix(" accepted"), "\(receipt.reply)")
        let form = try #require(log(file).first?["body"] as? [String: Any])
        #expect(form["to"] as? String == "447700900123" && form["from"] as? String == "RosiesSalon" && form["client-ref"] as? String == "detour-x-3-1-9")
        #expect((form["text"] as? String)?.contains("Call 0161 496 0000 & we'll book you in.") == true && form["type"] == nil, "GSM text, no type=unicode")
    }

    @Test func vonagesStatusDecidesAndItsSecretNeverShows() async throws {
        let (sender, file, server) = try vonage(["throttled": 1])
        defer { withExtendedLifetime(server) {} }
        let throttled = try #require(await send(sender).error)
        #expect(throttled.retryable && throttled.code == "sms.rate" && throttled.message.contains("status 1"), "\(throttled)")
        let barred = try #require(await send(sender, to: "+447700900666").error)
        #expect(!barred.retryable && barred.message.contains("status 7") && barred.message.contains("+447700900666"), "\(barred)")
        try JSONSerialization.data(withJSONObject: ["api_key": "abcd1234", "api_secret": "another"]).write(to: URL(fileURLWithPath: file))
        let auth = try #require(await send(sender).error)
        #expect(!auth.retryable && auth.code == "sms.auth" && auth.message.contains("status 4"), "\(auth)")
        for e in [throttled, barred, auth] { #expect(!e.message.contains("vonage-secret-canary")) }
    }

    @Test func anyGatewayGetsTheBusinesssRequest() async throws {
        try dir.write("gateway.json", #"{"recipient": "{{to}}", "message": "{{text}}", "ref": "{{delivery_id}}", "shop": "{{business.name}}"}"#)
        let server = try HTTPStandIn(routes: ["/v1/send": [["status": 503, "headers": ["Retry-After": "9"]], ["status": 202, "body": "{\"id\": \"msg-77\"}"]]], in: dir)
        let provider = SMSProvider.http(.init(url: Secret(server.baseURL + "/v1/send", origin: "env:GW"),
                                              request: .init(method: "POST", headers: [.init(name: "X-Api-Key", value: Secret("gw-key-canary", origin: "env:K"))],
                                                             body: dir.file("gateway.json"), contentType: "application/json")))
        let sender = try channel(provider)
        let busy = try #require(await send(sender).error)
        #expect(busy.retryable && busy.retryAfter == .seconds(9) && busy.message.contains("503"), "\(busy)")
        let receipt = try await send(sender).get()
        #expect(receipt.reply == #"http 202 {"id": "msg-77"}"#, "\(receipt.reply)")
        let got = try #require(received(server).last)
        #expect(got.headers["x-api-key"] == "gw-key-canary" && got.headers["content-type"] == "application/json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(got.body.utf8)) as? [String: String])
        #expect(json["recipient"] == "+447700900123" && json["ref"] == "detour-x-3-1-9" && json["shop"] == "Rosie's Salon")
        #expect(json["message"]?.contains("Call 0161 496 0000 & we'll book you in.") == true)
    }

    @Test func aRateSpacesTheTexts() async throws {
        let server = try HTTPStandIn(routes: ["*": ["status": 200]], in: dir)
        let provider = SMSProvider.http(.init(url: Secret(server.baseURL + "/send", origin: "inline"), request: .init()))
        let sender = try channel(provider, rate: SendRate(count: 20, per: .seconds(1)))
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<10 { group.addTask { _ = await send(sender, to: "+4477009001\(10 + i)") } }
        }
        let took = ContinuousClock.now - start
        // Ten texts at 20 a second: the last may start 450 ms after the first.
        #expect(took >= .milliseconds(440), "\(took)")
        #expect(received(server).count == 10)
    }
}
