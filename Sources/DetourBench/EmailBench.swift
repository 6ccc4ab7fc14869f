import DetourChannels
import DetourCore
import DetourTransport
import Foundation
import Logging
import Synchronization

/// `detour-bench email`: the email channel's fan-out throughput. For each connection count, a real
/// `EmailChannelSender` over a real SMTP pool (no rate limit, STARTTLS off) renders and sends N
/// personalised outage emails, one per customer, to the server named by `--server`.
enum EmailBench {
    struct Options {
        var messages = 10_000
        var connections = [1, 4, 8]
        /// Sends in flight per connection: more than one keeps a rendered message waiting on the pool,
        /// as the daemon's delivery workers do, so a connection never idles while the next one renders.
        var inFlightPerConnection = 2
        var server: String?
        var json = false
        var sampleDir: String?
        /// Also time the two halves of a send apart: rendering alone, and the pool alone with one prebuilt message.
        var breakdown = false
        /// Only these modes, in this order (`--modes`); nil: the channel, plus the breakdown when asked.
        var modes: [Mode]?
    }

    /// What a run sends through.
    enum Mode: String, Codable {
        /// `EmailChannelSender.deliver`: render, build and send each message (the figure).
        case channel
        /// `SMTPConnectionPool.send` with one prebuilt message: the transport without rendering.
        case poolOnly = "pool-only"
        /// Render and build each message, send nothing (connections is 0).
        case renderOnly = "render-only"
    }

    /// One run at one connection count.
    struct Run: Codable {
        var mode: Mode
        var connections: Int
        var inFlight: Int
        var messages: Int
        var failures: Int
        var seconds: Double
        var messagesPerSecond: Double
        /// One send, from the call to its return (waiting for a free connection included).
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        /// Size of one message as sent (headers and both parts), in bytes.
        var messageBytes: Int
        var firstFailure: String?
    }

    static let usage = "email --server smtp://HOST:PORT [--messages N] [--connections 1,4,8] [--in-flight-per-connection K] [--breakdown | --modes channel,pool-only,render-only] [--json] [--sample DIR]"

    /// Runs the subcommand and returns the exit status: 0, 1 when any message failed, 2 for a usage mistake.
    static func command(_ arguments: ArraySlice<String>) async -> Int32 {
        let options: Options
        switch parse(arguments) {
        case .success(let parsed): options = parsed
        case .failure(let problem):
            FanOut.progress("detour-bench email: \(problem.message)\nusage: detour-bench \(usage)")
            return 2
        }
        do {
            if let dir = options.sampleDir {
                try writeSample(to: dir)
                if options.server == nil { return 0 }
            }
            guard let server = options.server else {
                FanOut.progress("detour-bench email: --server is required\nusage: detour-bench \(usage)")
                return 2
            }
            var runs: [Run] = []
            let modes: [Mode] = options.modes ?? (options.breakdown ? [.channel, .poolOnly, .renderOnly] : [.channel])
            for connections in options.connections {
                for mode in modes where mode != .renderOnly {
                    let inFlight = connections * options.inFlightPerConnection
                    FanOut.progress("email: \(mode.rawValue), \(options.messages) messages over \(connections) connection(s), \(inFlight) in flight, to \(server)…")
                    let run = try await measure(mode, server: server, connections: connections, inFlight: inFlight, messages: options.messages)
                    if let failure = run.firstFailure { FanOut.progress("email: \(run.failures) failed; the first: \(failure)") }
                    runs.append(run)
                }
            }
            if modes.contains(.renderOnly) {
                FanOut.progress("email: render-only, \(options.messages) messages…")
                runs.append(try await measure(.renderOnly, server: server, connections: 0, inFlight: ProcessInfo.processInfo.activeProcessorCount,
                                              messages: options.messages))
            }
            if options.json {
                print(try FanOut.json(runs))
            } else {
                var rows = [["benchmark", "mode", "connections", "in flight", "messages", "seconds", "messages/s", "failures",
                             "p50 send", "p99 send", "bytes/message"]]
                for r in runs {
                    rows.append(["email-fanout", r.mode.rawValue, "\(r.connections)", "\(r.inFlight)", "\(r.messages)", String(format: "%.2f", r.seconds),
                                 String(format: "%.0f", r.messagesPerSecond), "\(r.failures)",
                                 String(format: "%.2f ms", r.p50Milliseconds), String(format: "%.2f ms", r.p99Milliseconds),
                                 "\(r.messageBytes)"])
                }
                printTable(rows)
            }
            return runs.contains { $0.failures > 0 } ? 1 : 0
        } catch {
            FanOut.progress("detour-bench email: \(error)")
            return 1
        }
    }

    /// Sends `messages` emails through a fresh pool of `connections`, keeping `inFlight` sends outstanding.
    static func measure(_ mode: Mode, server url: String, connections: Int, inFlight: Int, messages: Int) async throws -> Run {
        var logger = Logger(label: "detour-bench.email")
        logger.logLevel = .error
        let server = SMTPServer(name: "bench", url: url, startTLS: .off, username: nil, password: nil, caFile: nil,
                                verifyTLS: false, maxConnections: max(1, connections), rate: nil, timeout: .seconds(30))
        let pool = server.makePool(logger: logger)
        let sender = EmailChannelSender(settings: channel, server: server, pool: pool, logger: logger)
        let prebuilt = try EmailSample.message(index: 0)
        let from = channel.from.address
        let outcome: FanOut.Outcome
        switch mode {
        case .channel:
            outcome = await FanOut.run(count: messages, inFlight: inFlight) { (i) throws(DeliveryError) in
                _ = try await sender.deliver(message(i))
            }
        case .poolOnly:
            outcome = await FanOut.run(count: messages, inFlight: inFlight) { (i) throws(DeliveryError) in
                do {
                    _ = try await pool.send(from: from, to: [message(i).recipient], message: prebuilt)
                } catch {
                    throw DeliveryError(code: "smtp", message: "\(error)", retryable: false)
                }
            }
        case .renderOnly:
            outcome = await FanOut.run(count: messages, inFlight: inFlight) { (i) throws(DeliveryError) in
                do {
                    _ = try EmailSample.message(index: i)
                } catch {
                    throw DeliveryError(code: "bench.render", message: "\(error)", retryable: false)
                }
            }
        }
        await pool.close()
        return Run(mode: mode, connections: connections, inFlight: inFlight, messages: messages, failures: outcome.failures,
                   seconds: outcome.seconds, messagesPerSecond: Double(messages - outcome.failures) / outcome.seconds,
                   p50Milliseconds: outcome.p50 * 1000, p99Milliseconds: outcome.p99 * 1000,
                   messageBytes: prebuilt.count, firstFailure: outcome.firstFailure)
    }

    /// The policy's `channels.email` for the benchmark business.
    static let channel = EmailChannel(
        smtp: "bench", from: Mailbox(name: "Rosie's Bakery", address: "hello@rosies.example.test"), replyTo: nil,
        audience: Audience(file: "bench", recipients: []), templates: TemplateRefs(), maxPerCustomer: 1)

    /// The `i`th customer's outage email.
    static func message(_ i: Int) -> OutgoingMessage {
        let digits = String(i)
        let number = String(repeating: "0", count: max(0, 5 - digits.count)) + digits
        let address = "customer\(number)@example.test"
        return OutgoingMessage(deliveryID: "bench-email-\(number)", recipient: address,
                               context: EmailSample.context(name: "Customer \(number)", address: address, token: number))
    }

    /// Writes one message as the channel renders it, for the reference tools: `message.eml` (LF line
    /// ends, as `smtp-source -F` wants), and `subject.txt` and `text.txt` (its subject and text part, for Apprise).
    static func writeSample(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let data = try EmailSample.message(index: 0)
        let lf = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        try Data(lf.utf8).write(to: URL(fileURLWithPath: dir).appendingPathComponent("message.eml"))
        let rendered = try EmailSample.templates.get().render(message(0).context)
        try Data(rendered.text.utf8).write(to: URL(fileURLWithPath: dir).appendingPathComponent("text.txt"))
        try Data(rendered.subject.utf8).write(to: URL(fileURLWithPath: dir).appendingPathComponent("subject.txt"))
        FanOut.progress("email: sample message (\(data.count) bytes) written to \(dir)")
    }

    static func parse(_ arguments: ArraySlice<String>) -> Result<Options, FanOut.UsageProblem> {
        var options = Options()
        var rest = arguments
        while let flag = rest.popFirst() {
            func value() -> String? { rest.popFirst() }
            switch flag {
            case "--messages":
                guard let n = value().flatMap(Int.init), n > 0 else { return .failure(FanOut.UsageProblem("--messages needs a positive number")) }
                options.messages = n
            case "--connections":
                let list = (value() ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !list.isEmpty, list.allSatisfy({ $0 > 0 }) else {
                    return .failure(FanOut.UsageProblem("--connections needs a comma-separated list of positive numbers, e.g. 1,4,8"))
                }
                options.connections = list
            case "--in-flight-per-connection":
                guard let n = value().flatMap(Int.init), n > 0 else {
                    return .failure(FanOut.UsageProblem("--in-flight-per-connection needs a positive number"))
                }
                options.inFlightPerConnection = n
            case "--server":
                guard let url = value(), url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                    return .failure(FanOut.UsageProblem("--server needs an smtp:// or smtps:// URL"))
                }
                options.server = url
            case "--sample":
                guard let dir = value() else { return .failure(FanOut.UsageProblem("--sample needs a directory")) }
                options.sampleDir = dir
            case "--json": options.json = true
            case "--breakdown": options.breakdown = true
            case "--modes":
                let names = (value() ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let parsed = names.compactMap(Mode.init(rawValue:))
                guard !parsed.isEmpty, parsed.count == names.count else {
                    return .failure(FanOut.UsageProblem("--modes needs a comma-separated list of channel, pool-only and render-only"))
                }
                options.modes = parsed
            default: return .failure(FanOut.UsageProblem("unknown argument '\(flag)'"))
            }
        }
        return .success(options)
    }
}

/// The outage message every channel benchmark sends: one bakery, one Instagram outage.
enum EmailSample {
    static let since = Date(timeIntervalSince1970: 1_733_900_000)

    static func context(name: String?, address: String?, token: String) -> MessageContext {
        MessageContext(
            event: .opened, businessID: "rosies-bakery", businessName: "Rosie's Bakery", incidentID: "inc-bench-0001",
            platforms: ["Instagram"], since: since,
            message: "Instagram messages may not reach us right now. Order online at https://rosies.example.test/order or call 020 7946 0123.",
            contacts: [ContactLink(label: "Order online", url: "https://rosies.example.test/order"),
                       ContactLink(label: "Call the bakery", url: "tel:+442079460123")],
            recipientName: name, recipientEmail: address, locale: "en-GB",
            unsubscribeURL: address.map { _ in "https://detour.rosies.example.test/unsubscribe?t=\(token)" })
    }

    /// The built-in outage templates, parsed once as the channel does.
    static let templates = Result { () throws(TemplateRenderer.Problem) in try EmailTemplates.builtin(.opened) }

    /// The `index`th message exactly as the email channel builds it.
    static func message(index: Int) throws -> Data {
        let outgoing = EmailBench.message(index)
        let rendered = try templates.get().render(outgoing.context)
        let channel = EmailBench.channel
        return try EmailMessageBuilder.build(EmailMessage(
            from: channel.from, to: Mailbox(name: outgoing.context.recipientName, address: outgoing.recipient),
            subject: rendered.subject, text: rendered.text, html: rendered.html, deliveryID: outgoing.deliveryID,
            date: Date(), unsubscribeURL: outgoing.context.unsubscribeURL))
    }
}

/// The driver both channel benchmarks share: N sends with at most `inFlight` outstanding, timed.
enum FanOut {
    struct Outcome {
        var failures: Int
        var firstFailure: String?
        var seconds: Double
        /// Median and 99th percentile of one successful send, from the call to its return (queueing on a pool included).
        var p50: Double
        var p99: Double
    }

    /// `inFlight` workers each take the next number and send it, until `count` are done: at most
    /// `inFlight` sends outstanding, and no task made per send.
    static func run(count: Int, inFlight: Int, send: @escaping @Sendable (Int) async throws(DeliveryError) -> Void) async -> Outcome {
        let tally = Tally()
        let next = Counter()
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, min(inFlight, count)) {
                group.addTask {
                    while true {
                        let i = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard i < count else { return }
                        let started = ContinuousClock.now
                        do {
                            try await send(i)
                            tally.succeeded(after: ContinuousClock.now - started)
                        } catch {
                            tally.failed("\(error)")
                        }
                    }
                }
            }
        }
        let elapsed = seconds(ContinuousClock.now - start)
        let (failures, first, latencies) = tally.snapshot()
        let sorted = latencies.sorted()
        func quantile(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        return Outcome(failures: failures, firstFailure: first, seconds: elapsed, p50: quantile(0.5), p99: quantile(0.99))
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func progress(_ line: String) {
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A command-line mistake, said in one line.
    struct UsageProblem: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// The next number to send, shared by the workers.
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Successes' send times, failures and the first failure's text, from many tasks at once.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var failures = 0
        private var first: String?
        private var latencies: [Double] = []

        func succeeded(after duration: Duration) {
            lock.lock(); defer { lock.unlock() }
            latencies.append(FanOut.seconds(duration))
        }

        func failed(_ description: String) {
            lock.lock(); defer { lock.unlock() }
            failures += 1
            if first == nil { first = description }
        }

        func snapshot() -> (failures: Int, first: String?, latencies: [Double]) {
            lock.lock(); defer { lock.unlock() }
            return (failures, first, latencies)
        }
    }
}
