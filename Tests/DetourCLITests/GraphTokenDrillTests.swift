import Foundation
import Testing
import TestKit

/// An expired Graph API token is an operator's problem, not an outage: the real daemon logs it once,
/// shows it in `status` and `/metrics`, tells the policy's staff webhook once, tells no customer
/// anything, and clears it when the token works.
@Suite(.serialized) struct GraphTokenDrillTests {
    @Test func anExpiredTokenRaisesAnOperatorAlertAndNoCustomerHearsAnything() throws {
        let standIn = try TempDir("graph-drill")
        let config = standIn.file("graph.json")
        func write(_ state: String) throws {
            try JSONSerialization.data(withJSONObject: ["tokens": ["EAAB-rosie": state],
                                                        "objects": ["106540352242922": ["id": "106540352242922"]]])
                .write(to: URL(fileURLWithPath: config))
        }
        try write("expired")
        let graph = try LocalServer(script: "graph_server.py", arguments: [config])
        var o = DaemonHarness.Options()
        o.extraProbes = """
              - graph: "106540352242922"
                access_token: env:ROSIE_GRAPH_TOKEN
                base_url: http://127.0.0.1:\(graph.port)
        """
        let h = try DaemonHarness(o)
        try h.writePolicy(extra: "staff_webhook: crm")
        try h.start(environment: ["ROSIE_GRAPH_TOKEN": "EAAB-rosie"])
        defer { h.stop() }

        #expect(h.wait(20) { (try? h.cli(["status"]).stdout.contains("TOKEN REFUSED")) == true }, "log:\n\(h.log().suffix(2000))\n\((try? String(contentsOfFile: h.configPath, encoding: .utf8)) ?? "")\n\((try? h.cli(["status"]).stdout) ?? "")")
        let status = try h.cli(["status", "--json"]).stdout
        #expect(status.contains("code 190") && status.contains("not an outage"), "\(status.prefix(1500))")
        let metrics = String(decoding: try PlainHTTP.get(port: h.httpPort, path: "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("detour_probe_credential_problems{platform=\"acme\"} 1"), "\(metrics.split(separator: "\n").filter { $0.contains("credential") })")
        Thread.sleep(forTimeInterval: 3)
        #expect(h.log().components(separatedBy: "access token is refused").count - 1 == 1, "logged once, not every round")
        #expect(h.emails().isEmpty && !status.contains("\"incident\" : {"), "no customer is told anything")
        // The staff webhook hears it once, as an operator alert.
        let alerts = h.receiver.requests().compactMap { $0["body"] as? String }.filter { $0.contains("detour.operator.alert") }
        #expect(alerts.count == 1 && alerts.first?.contains("is refused") == true && alerts.first?.contains("Renew it") == true, "\(alerts)")
        #expect(!(alerts.first ?? "").contains("EAAB-rosie"))
        #expect(!h.log().contains("EAAB-rosie") && !status.contains("EAAB-rosie"))

        try write("valid")
        #expect(h.wait(20) { (try? h.cli(["status"]).stdout.contains("TOKEN REFUSED")) == false })
        #expect(h.wait(10) { h.log().contains("access token is accepted again") })
        withExtendedLifetime(graph) {}
    }
}
