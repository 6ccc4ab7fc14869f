@testable import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Testing
import TestKit

/// `format: custom`: the business's method, headers and Mustache body, as a real receiver gets them.
@Suite(.timeLimit(.minutes(1)))
struct WebhookCustomTests {
    let dir: TempDir
    let client = CurlHTTPClient(logger: webhookTestLogger)
    /// Quotes, a backslash, a line break, `&` and `=`: what breaks a naively built body.
    static let hostile = "Our \"DMs\" are down \\ sorry\nCall 0161 496 0000 & ask for Rosie = quicker. ✂️"

    init() throws { dir = try TempDir("webhook-custom") }

    func deliver(_ request: WebhookChannel.CustomRequest, secret: String? = nil, message: String = hostile) async throws -> ReceivedRequest {
        let server = try HTTPStandIn(routes: ["*": ["status": 200]], in: dir)
        var webhook = WebhookFixture.webhook(.custom, url: server.baseURL + "/crm/notify", secret: secret)
        webhook.custom = request
        let sender = try WebhookFixture.sender(webhook, client: client)
        _ = try await sender.deliver(WebhookFixture.message(context: WebhookFixture.context(message: message)))
        return try #require(received(server).first)
    }

    @Test func aJSONTemplateGetsTheMethodHeadersAndEveryValueEscaped() async throws {
        try dir.write("crm.json", """
        {"customer_group": "all", "text": "{{message}}", "business": "{{business.name}}", "id": "{{delivery_id}}",
         "platforms": "{{platform_list}}", "event": "{{event}}"}
        """)
        let request = WebhookChannel.CustomRequest(
            method: "PUT",
            headers: [.init(name: "Authorization", value: Secret("Bearer crm-token-canary", origin: "env:CRM_TOKEN")),
                      .init(name: "X-Source", value: Secret("detour", origin: "inline"))],
            body: dir.file("crm.json"), contentType: "application/json")
        let got = try await deliver(request)
        #expect(got.method == "PUT" && got.path == "/crm/notify")
        #expect(got.headers["authorization"] == "Bearer crm-token-canary" && got.headers["x-source"] == "detour")
        #expect(got.headers["content-type"] == "application/json")
        let body = try got.json()
        #expect(body["text"] as? String == Self.hostile, "the message arrives exactly, quotes and line break included")
        #expect(body["business"] as? String == "Rosie's Bakery", "JSON escaping, not HTML: no &#39;")
        #expect(body["id"] as? String == "dlv_01HZX3K9" && body["event"] as? String == "opened")
        #expect(body["platforms"] as? String == "Instagram and WhatsApp")
    }

    @Test func aFormTemplateIsPercentEncoded() async throws {
        try dir.write("gateway.form", "To=%2B447700900123&From=Rosies&Body={{message}}")
        let got = try await deliver(WebhookChannel.CustomRequest(body: dir.file("gateway.form"),
                                                                 contentType: "application/x-www-form-urlencoded"))
        #expect(got.method == "POST")
        #expect(got.headers["content-type"] == "application/x-www-form-urlencoded")
        var form = URLComponents()
        form.percentEncodedQuery = got.body.replacingOccurrences(of: "+", with: "%20")
        let fields = Dictionary((form.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(fields["Body"] == Self.hostile, "\(got.body)")
        #expect(fields["To"] == "+447700900123" && fields.count == 3, "a message with & and = adds no field: \(fields.keys.sorted())")
    }

    @Test func aCustomBodyCanBeSignedAsAStandardWebhook() async throws {
        try dir.write("crm.json", "{\"text\": \"{{message}}\"}")
        let got = try await deliver(WebhookChannel.CustomRequest(body: dir.file("crm.json")), secret: testSigningSecret)
        #expect(got.headers["webhook-id"] == "dlv_01HZX3K9")
        #expect(try verifiesWithTheReadmeExample(got, secret: testSigningSecret))
    }

    @Test func withoutATemplateTheBodyIsTheJSONFormats() async throws {
        let got = try await deliver(WebhookChannel.CustomRequest(method: "PATCH"))
        #expect(got.method == "PATCH")
        #expect(try got.json()["type"] as? String == "detour.incident.opened")
    }

    @Test func theEscapingFollowsTheContentType() {
        #expect(CustomBody.escaping(for: "application/json; charset=utf-8") == "DETOUR_JSON")
        #expect(CustomBody.escaping(for: "application/vnd.api+json") == "DETOUR_JSON")
        #expect(CustomBody.escaping(for: "application/x-www-form-urlencoded") == "DETOUR_FORM")
        #expect(CustomBody.escaping(for: "application/soap+xml") == "HTML")
        #expect(CustomBody.escaping(for: "text/plain") == "TEXT")
    }

    @Test func aJSONTemplateThatDoesNotRenderJSONIsAProblemAtCheckTime() throws {
        try dir.write("unquoted.json", "{\"text\": {{message}}}")
        try dir.write("quoted.json", "{\"text\": \"{{message}}\", \"all_clear\": {{resolved}}}")
        let sample = WebhookFixture.context()
        let bad = TemplateCheck.customBodyProblems(WebhookChannel.CustomRequest(body: dir.file("unquoted.json")), webhook: "crm",
                                                   keyPath: "channels.webhooks[0].body", sample: sample)
        #expect(bad.count == 1 && bad[0].message.contains("not valid JSON") && bad[0].message.contains("inside quotes"), "\(bad)")
        #expect(TemplateCheck.customBodyProblems(WebhookChannel.CustomRequest(body: dir.file("quoted.json")), webhook: "crm",
                                                 keyPath: "channels.webhooks[0].body", sample: sample).isEmpty)
    }

    @Test func anUnquotedIncidentIsRefusedBecauseSendTestRendersItAsTest() throws {
        // `{"incident": 1}` is JSON for a real incident, but `detour send-test` renders the word `test` there.
        try dir.write("incident.json", "{\"incident\": {{incident}}}")
        var sample = WebhookFixture.context()
        sample.incidentID = "7"
        let bad = TemplateCheck.customBodyProblems(WebhookChannel.CustomRequest(body: dir.file("incident.json")), webhook: "crm",
                                                   keyPath: "channels.webhooks[0].body", sample: sample)
        #expect(bad.count == 1 && bad[0].message.contains("test body is not valid JSON"), "\(bad)")
    }
}
