import DetourCore
import Foundation

/// Calls the business's own Graph API object with its own access token and says whether Meta's API
/// works for it: what a business feels in an outage like March 2024's, when the public pages still
/// loaded while logins and API calls failed.
///
/// - ok: a 2xx answer.
/// - failing: no answer, a timeout, a 5xx, or a Graph error code that means the service is down or
///   overloaded (1, 2, 341, 131000, 131016, 131057, 133004).
/// - unknown: a rate limit (4, 17, 32, 613, 80007, 80008, 130429) — busy, not down — or another
///   refusal of the request itself.
/// - unknown **and a credential problem** for an operator: an expired, revoked or otherwise invalid
///   token (HTTP 401, code 190 or 102). That is not an outage and never tells a customer anything.
/// The token goes in an `Authorization` header and never appears in a result.
public struct GraphProbe: Probe {
    public let check: GraphCheck
    public let timeout: TimeSpan
    public let label: String
    private let fetcher: any ProbeHTTPFetcher

    static let serviceDown: Set<Int> = [1, 2, 341, 131000, 131016, 131057, 133004]
    static let rateLimited: Set<Int> = [4, 17, 32, 613, 80007, 80008, 130429]
    static let badToken: Set<Int> = [190, 102]

    public init(check: GraphCheck, timeout: TimeSpan, fetcher: any ProbeHTTPFetcher) {
        self.check = check; self.timeout = timeout; self.fetcher = fetcher
        label = ProbeSpec(.graph(check)).label
    }

    public func run() async -> ProbeResult {
        let request = ProbeHTTPRequest(url: check.url, headers: ["Authorization": "Bearer \(check.accessToken.reveal())", "Accept": "application/json"],
                                       timeout: timeout, followRedirects: false, maxBytes: 64 * 1024)
        let fetcher = self.fetcher
        let outcome = await Deadline.run(within: timeout.duration + .milliseconds(100)) { await fetcher.fetch(request) }
        switch outcome {
        case nil:
            return result(.failing, "Graph API \(timeout.timedOutText)", nil)
        case .failure(let failure)?:
            return result(.failing, scrub(HTTPProbe.describe(failure, timeout: timeout)), failure.timings)
        case .response(let response)?:
            return classify(status: response.status, body: response.body, timings: response.timings)
        }
    }

    func classify(status: Int, body: Data, timings: PhaseTimings?) -> ProbeResult {
        if (200...299).contains(status) { return result(.ok, "HTTP \(status)", timings) }
        let error = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["error"] as? [String: Any]
        let code = (error?["code"] as? NSNumber)?.intValue
        let message = (error?["message"] as? String).map { String(scrub($0).prefix(160)) }
        let said = "HTTP \(status)" + (code.map { " code \($0)" } ?? "") + (message.map { ": \($0)" } ?? "")
        if status == 401 || code.map(Self.badToken.contains) == true {
            var r = result(.unknown, "the access token was refused (\(said)): not an outage; renew the token", timings)
            r.notice = .tokenRefused
            return r
        }
        if let code, Self.rateLimited.contains(code) { return result(.unknown, "rate limited, not down (\(said))", timings) }
        if (500...599).contains(status) || code.map(Self.serviceDown.contains) == true { return result(.failing, said, timings) }
        return result(.unknown, "the request was refused (\(said)): check the object id and fields", timings)
    }

    private func scrub(_ text: String) -> String {
        let token = check.accessToken.reveal()
        return token.isEmpty ? text : text.replacingOccurrences(of: token, with: "…")
    }

    private func result(_ verdict: ProbeResult.Verdict, _ detail: String, _ timings: PhaseTimings?) -> ProbeResult {
        ProbeResult(probe: label, verdict: verdict, detail: detail, observedAt: Date(), timings: timings)
    }
}
