import DetourCore

/// Turns configured `ProbeSpec`s into runnable probes.
public enum ProbeFactory {
    /// The probe for `spec`, with the spec's own timeout or else `defaultTimeout` (the platform's).
    public static func makeProbe(spec: ProbeSpec, defaultTimeout: TimeSpan, fetcher: any ProbeHTTPFetcher) -> any Probe {
        let timeout = spec.timeout ?? defaultTimeout
        switch spec.kind {
        case .dns(let host): return DNSProbe(host: host, timeout: timeout)
        case .tcp(let host, let port): return TCPProbe(host: host, port: port, timeout: timeout)
        case .http(let check): return HTTPProbe(check: check, timeout: timeout, fetcher: fetcher)
        case .statusFeed(let feed): return StatusFeedProbe(feed: feed, timeout: timeout, fetcher: fetcher)
        case .graph(let check): return GraphProbe(check: check, timeout: timeout, fetcher: fetcher)
        case .silence(let check): return SilenceProbe(check: check)
        }
    }
}
