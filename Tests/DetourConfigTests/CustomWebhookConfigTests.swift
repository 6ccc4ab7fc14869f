import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

/// `format: custom` in a policy: what loads, and each mistake at its line and key.
@Suite struct CustomWebhookConfigTests {
    static func hook(_ extra: String) -> String {
        policy(with: "  webhooks:\n    - name: crm\n      format: custom\n      url: https://crm.example.com/notify\n" + extra)
    }

    @Test func aCustomWebhookLoadsWithItsMethodHeadersBodyAndContentType() throws {
        let f = try Fixture(policies: ["a.yaml": Self.hook("""
              method: put
              headers:
                Authorization: env:CRM_AUTH
                X-Api-Key_file: ../crm.key
                X-Source: detour
              body: crm.json
        """)], files: ["policies/crm.json": "{\"text\": \"{{message}}\"}", "crm.key": "k-123\n"], environment: ["CRM_AUTH": "Bearer t0k3n"])
        #expect(!f.diagnostics.hasErrors, "\(f.everything)")
        let custom = try #require(f.loaded?.policies.first?.webhooks.first?.custom)
        #expect(custom.method == "PUT" && custom.contentType == "application/json")
        #expect(custom.body == f.dir.file("policies/crm.json"))
        let headers = Dictionary(custom.headers.map { ($0.name, $0.value.reveal()) }, uniquingKeysWith: { a, _ in a })
        #expect(headers == ["Authorization": "Bearer t0k3n", "X-Api-Key": "k-123", "X-Source": "detour"])
        #expect(!f.everything.contains("t0k3n") && !f.everything.contains("k-123"))
    }

    @Test func eachMistakeIsAnErrorAtItsKey() throws {
        let f = try Fixture(policies: [
            "a.yaml": Self.hook("      method: DELETE\n      headers:\n        Content-Type: text/plain\n        \"Bad Header\": x\n      body: missing.json\n"),
            "b.yaml": policy(with: "  webhooks:\n    - name: slack\n      format: slack\n      url: https://hooks.slack.com/x\n      headers:\n        X-A: b\n")
                .replacingOccurrences(of: "rosies-bakery", with: "other"),
            "c.yaml": Self.hook("      body: crm.weird\n").replacingOccurrences(of: "rosies-bakery", with: "third"),
        ], files: ["policies/crm.weird": "{{message}}"])
        #expect(f.error("policies/a.yaml", "channels.webhooks[0].method")?.message.contains("not POST, PUT or PATCH") == true)
        let headers = f.diagnostics.errors.filter { $0.keyPath == "channels.webhooks[0].headers" && $0.file == f.dir.file("policies/a.yaml") }
        #expect(headers.contains { $0.message.contains("sets the Content-Type header itself") && $0.line == 15 }, "\(f.everything)")
        #expect(headers.contains { $0.message.contains("'Bad Header' is not an HTTP header name") && $0.line == 16 })
        #expect(f.error("policies/a.yaml", "channels.webhooks[0].body")?.message.contains("missing.json") == true)
        #expect(f.error("policies/b.yaml", "channels.webhooks[0].headers")?.message.contains("format: custom only") == true)
        #expect(f.error("policies/c.yaml", "channels.webhooks[0].body")?.hint?.contains("content_type") == true)
    }
}
