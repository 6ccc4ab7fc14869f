import DetourCore
import struct Foundation.Date

/// Checks that a platform's name still resolves (the Oct 2021 outage: names stopped resolving).
///
/// `ok` lists the addresses found; `failing` says `NXDOMAIN`, `SERVFAIL/temporary failure` or
/// `timed out after 5s`, so an operator can tell a vanished name from a struggling resolver.
public struct DNSProbe: Probe {
    public let host: String
    public let timeout: TimeSpan
    public let label: String

    public init(host: String, timeout: TimeSpan) {
        self.host = host
        self.timeout = timeout
        self.label = ProbeSpec(.dns(host: host)).label
    }

    public func run() async -> ProbeResult {
        let started = ContinuousClock.now
        let host = self.host
        let outcome = await Deadline.runBlocking(within: timeout.duration) { Resolver.resolve(host) }
        let elapsed = started.secondsSince
        let timings = PhaseTimings(dns: elapsed, connect: 0, tls: 0, firstByte: 0, total: elapsed)
        switch outcome {
        case nil:
            return ProbeResult(probe: label, verdict: .failing, detail: timeout.timedOutText, observedAt: Date())
        case .failure(let failure)?:
            return ProbeResult(probe: label, verdict: .failing, detail: failure.detail, observedAt: Date(), timings: timings)
        case .success(let addresses)?:
            let shown = addresses.prefix(6).map(\.text).joined(separator: ", ")
            let more = addresses.count > 6 ? " and \(addresses.count - 6) more" : ""
            return ProbeResult(probe: label, verdict: .ok, detail: "resolved to \(shown)\(more) in \(describeSeconds(elapsed))",
                               observedAt: Date(), timings: timings)
        }
    }
}
