import DetourCore
import struct Foundation.Date

/// Fetches a platform's official status feed and reports what it claims, as corroboration only.
///
/// A feed that cannot be fetched, answers with an error status or cannot be read is `.unknown`:
/// an unreachable status page says nothing about the platform.
public struct StatusFeedProbe: Probe {
    public let feed: StatusFeedCheck
    public let timeout: TimeSpan
    public let label: String
    private let fetcher: any ProbeHTTPFetcher

    public init(feed: StatusFeedCheck, timeout: TimeSpan, fetcher: any ProbeHTTPFetcher) {
        self.feed = feed
        self.timeout = timeout
        self.fetcher = fetcher
        self.label = ProbeSpec(.statusFeed(feed)).label
    }

    public func run() async -> ProbeResult {
        let accept = feed.format == .metastatusRSS ? "application/rss+xml, application/xml;q=0.9, text/xml;q=0.8" : "application/json"
        let request = ProbeHTTPRequest(url: feed.url, headers: ["Accept": accept], timeout: timeout)
        let fetcher = self.fetcher
        let outcome = await Deadline.run(within: timeout.duration + .milliseconds(100)) { await fetcher.fetch(request) }
        switch outcome {
        case nil:
            return result(.unknown, "feed \(timeout.timedOutText)", nil)
        case .failure(let failure)?:
            return result(.unknown, "feed unreachable: \(HTTPProbe.describe(failure, timeout: timeout))", failure.timings)
        case .response(let response)?:
            guard (200...299).contains(response.status) else {
                return result(.unknown, "feed answered HTTP \(response.status)", response.timings)
            }
            if response.truncated { return result(.unknown, "feed larger than \(response.body.count) bytes", response.timings) }
            let reading = StatusFeedInterpreter.interpret(data: response.body, format: feed.format, component: feed.component)
            var r = result(reading.verdict, reading.detail, response.timings)
            if reading.detail.hasPrefix(MetaStatusFeed.notInFeed) { r.notice = .notInFeed }
            return r
        }
    }

    private func result(_ verdict: ProbeResult.Verdict, _ detail: String, _ timings: PhaseTimings?) -> ProbeResult {
        ProbeResult(probe: label, verdict: verdict, detail: detail, corroborating: true, observedAt: Date(), timings: timings)
    }
}
