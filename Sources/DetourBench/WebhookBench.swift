import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Logging

/// `detour-bench webhook`: the webhook channel's throughput. A real `WebhookSender` in the `standard`
/// format (rendered, signed with a `whsec_` secret) POSTs N deliveries to `--url` over the process's
/// shared libcurl client, with `--concurrency` in flight, private targets allowed as the daemon's
/// `webhooks.allow_private_targets` does.
enum WebhookBench {
    struct Options {
        var deliveries = 10_000
        var concurrency = 16
        var url: String?
        var json = false
        var sampleDir: String?
    }

    struct Run: Codable {
        var concurrency: Int
        var deliveries: Int
        var failures: Int
        var seconds: Double
        var deliveriesPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        /// Size of one request body, in bytes.
        var bodyBytes: Int
        var firstFailure: String?
    }

    static let usage = "webhook --url http://HOST:PORT/PATH [--deliveries N] [--concurrency C] [--json] [--sample DIR]"

    /// A fixed signing secret: `whsec_` and base64 of 32 bytes.
    static let secret = Secret("whsec_" + Data((0..<32).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }).base64EncodedString(), origin: "inline")

    /// Runs the subcommand and returns the exit status: 0, 1 when any delivery failed, 2 for a usage mistake.
    static func command(_ arguments: ArraySlice<String>) async -> Int32 {
        let options: Options
        switch parse(arguments) {
        case .success(let parsed): options = parsed
        case .failure(let problem):
            FanOut.progress("detour-bench webhook: \(problem.message)\nusage: detour-bench \(usage)")
            return 2
        }
        do {
            if let dir = options.sampleDir {
                try writeSample(to: dir)
                if options.url == nil { return 0 }
            }
            guard let url = options.url else {
                FanOut.progress("detour-bench webhook: --url is required\nusage: detour-bench \(usage)")
                return 2
            }
            FanOut.progress("webhook: \(options.deliveries) deliveries, \(options.concurrency) in flight, to \(url)…")
            let run = try await measure(url: url, concurrency: options.concurrency, deliveries: options.deliveries)
            if let failure = run.firstFailure { FanOut.progress("webhook: \(run.failures) failed; the first: \(failure)") }
            if options.json {
                print(try FanOut.json([run]))
            } else {
                printTable([
                    ["benchmark", "concurrency", "deliveries", "seconds", "deliveries/s", "failures", "p50", "p99", "body bytes"],
                    ["webhook-standard", "\(run.concurrency)", "\(run.deliveries)", String(format: "%.2f", run.seconds),
                     String(format: "%.0f", run.deliveriesPerSecond), "\(run.failures)",
                     String(format: "%.2f ms", run.p50Milliseconds), String(format: "%.2f ms", run.p99Milliseconds), "\(run.bodyBytes)"],
                ])
            }
            return run.failures > 0 ? 1 : 0
        } catch {
            FanOut.progress("detour-bench webhook: \(error)")
            return 1
        }
    }

    static func measure(url: String, concurrency: Int, deliveries: Int) async throws -> Run {
        var logger = Logger(label: "detour-bench.webhook")
        logger.logLevel = .error
        let client = CurlHTTPClient(logger: logger)
        defer { client.shutdown() }
        let sender = try WebhookSender(webhook: webhook(url: url), network: network, client: client, logger: logger)
        let outcome = await FanOut.run(count: deliveries, inFlight: concurrency) { (i) throws(DeliveryError) in
            _ = try await sender.deliver(message(i))
        }
        return Run(concurrency: concurrency, deliveries: deliveries, failures: outcome.failures, seconds: outcome.seconds,
                   deliveriesPerSecond: Double(deliveries - outcome.failures) / outcome.seconds,
                   p50Milliseconds: outcome.p50 * 1000, p99Milliseconds: outcome.p99 * 1000,
                   bodyBytes: try sample().data.count, firstFailure: outcome.firstFailure)
    }

    /// `webhooks:` from detour.yaml with private targets allowed (the target is on 127.0.0.1).
    static let network = WebhookNetwork(allowPrivateTargets: true, timeout: .seconds(10))

    static func webhook(url: String) -> WebhookChannel {
        WebhookChannel(name: "shop-backend", format: .standard, url: Secret(url, origin: "inline"), secret: secret,
                       templates: TemplateRefs())
    }

    /// The `i`th delivery: the bakery's outage event, with its own delivery id.
    static func message(_ i: Int) -> OutgoingMessage {
        OutgoingMessage(deliveryID: String(format: "bench-webhook-%05d", i), recipient: "shop-backend",
                        context: EmailSample.context(name: nil, address: nil, token: ""))
    }

    /// The first delivery's body and headers as the sender builds them.
    static func sample() throws -> WebhookBody {
        let templates = try WebhookTemplates(TemplateRefs())
        let outgoing = message(0)
        return try WebhookBody.make(format: .standard, channel: "shop-backend", message: outgoing,
                                    text: templates.text(for: outgoing.context), secret: secret,
                                    timestamp: Int64(Date().timeIntervalSince1970))
    }

    /// Writes one request as the channel sends it, for the reference tools: `body.json`, `headers.txt`
    /// (`Name: value` lines) and `text.txt` (the rendered text, for Apprise).
    static func writeSample(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let body = try sample()
        let base = URL(fileURLWithPath: dir)
        try body.data.write(to: base.appendingPathComponent("body.json"))
        let headers = [("Content-Type", "application/json"), ("User-Agent", WebhookSender.userAgent)] + body.headers
        try Data(headers.map { "\($0.0): \($0.1)\n" }.joined().utf8).write(to: base.appendingPathComponent("headers.txt"))
        let text = try WebhookTemplates(TemplateRefs()).text(for: message(0).context)
        try Data("\(text.headline)\n\(text.body)\n".utf8).write(to: base.appendingPathComponent("text.txt"))
        FanOut.progress("webhook: sample request (\(body.data.count)-byte body) written to \(dir)")
    }

    static func parse(_ arguments: ArraySlice<String>) -> Result<Options, FanOut.UsageProblem> {
        var options = Options()
        var rest = arguments
        while let flag = rest.popFirst() {
            switch flag {
            case "--deliveries":
                guard let n = rest.popFirst().flatMap(Int.init), n > 0 else {
                    return .failure(FanOut.UsageProblem("--deliveries needs a positive number"))
                }
                options.deliveries = n
            case "--concurrency":
                guard let n = rest.popFirst().flatMap(Int.init), n > 0 else {
                    return .failure(FanOut.UsageProblem("--concurrency needs a positive number"))
                }
                options.concurrency = n
            case "--url":
                guard let url = rest.popFirst(), url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    return .failure(FanOut.UsageProblem("--url needs an http:// or https:// URL"))
                }
                options.url = url
            case "--sample":
                guard let dir = rest.popFirst() else { return .failure(FanOut.UsageProblem("--sample needs a directory")) }
                options.sampleDir = dir
            case "--json": options.json = true
            default: return .failure(FanOut.UsageProblem("unknown argument '\(flag)'"))
            }
        }
        return .success(options)
    }
}
