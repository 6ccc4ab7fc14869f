import DetourCore
import struct Foundation.Date
import struct Foundation.Data

/// Checks a platform page the way a customer meets it: status code, latency and tell-tale body text.
///
/// Wrong status, an error-page phrase (`mustNotContain`) or a missing expected phrase (`mustContain`)
/// is `.failing`; a correct answer slower than `maxLatency` is `.slow`; no answer within the timeout
/// is `.failing` with `timed out after 10s`.
public struct HTTPProbe: Probe {
    public let check: HTTPCheck
    public let timeout: TimeSpan
    public let label: String
    private let fetcher: any ProbeHTTPFetcher

    public init(check: HTTPCheck, timeout: TimeSpan, fetcher: any ProbeHTTPFetcher) {
        self.check = check
        self.timeout = timeout
        self.fetcher = fetcher
        self.label = ProbeSpec(.http(check)).label
    }

    public func run() async -> ProbeResult {
        let request = ProbeHTTPRequest(url: check.url, method: check.method, headers: check.headers, timeout: timeout,
                                       followRedirects: check.followRedirects, verifyTLS: check.verifyTLS)
        let fetcher = self.fetcher
        // The fetcher is asked to keep the timeout; this backstop keeps it for a fetcher that does not.
        let outcome = await Deadline.run(within: timeout.duration + .milliseconds(100)) { await fetcher.fetch(request) }
        let (verdict, detail, timings) = Self.evaluate(outcome, check: check, timeout: timeout)
        return ProbeResult(probe: label, verdict: verdict, detail: detail, observedAt: Date(), timings: timings)
    }

    /// Judges one outcome against the check; nil means nothing came back within the timeout.
    static func evaluate(_ outcome: ProbeHTTPOutcome?, check: HTTPCheck, timeout: TimeSpan)
        -> (ProbeResult.Verdict, String, PhaseTimings?) {
        guard let outcome else { return (.failing, timeout.timedOutText, nil) }
        switch outcome {
        case .failure(let failure):
            return (.failing, describe(failure, timeout: timeout), failure.timings)
        case .response(let response):
            let timings = response.timings
            let took = describeSeconds(timings.total)
            guard check.accepts(status: response.status) else {
                return (.failing, "HTTP \(response.status)", timings)
            }
            let body = String(decoding: response.body, as: UTF8.self)
            if let bad = check.mustNotContain, !bad.isEmpty, body.contains(bad) {
                return (.failing, "body contains \"\(bad)\"", timings)
            }
            if let needed = check.mustContain, !needed.isEmpty, !body.contains(needed) {
                let cut = response.truncated ? " (first \(response.body.count) bytes read)" : ""
                return (.failing, "body lacks \"\(needed)\"\(cut)", timings)
            }
            if let limit = check.maxLatency, timings.total > limit.seconds {
                return (.slow, "HTTP \(response.status) in \(took), over the \(limit) limit", timings)
            }
            return (.ok, "HTTP \(response.status) in \(took)", timings)
        }
    }

    static func describe(_ failure: ProbeHTTPFailure, timeout: TimeSpan) -> String {
        switch failure.kind {
        case .timeout: return timeout.timedOutText
        case .dns: return "dns: \(failure.message)"
        case .connect: return "connect: \(failure.message)"
        case .tls: return "TLS: \(failure.message)"
        default: return failure.message
        }
    }
}
