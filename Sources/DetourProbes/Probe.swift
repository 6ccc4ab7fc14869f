import DetourCore
import struct Foundation.Date

/// One check of a platform or a control target, ready to run: the extension point every probe kind implements.
///
/// A probe is built with its hard timeout and never throws: a failure, a timeout or a result we
/// cannot read is itself a `ProbeResult` (`.failing` or `.unknown`) with a detail a person can read.
public protocol Probe: Sendable {
    /// Runs the check once and reports what it saw, within the probe's timeout.
    func run() async -> ProbeResult
}

extension TimeSpan {
    /// `timed out after 5s`: the one wording every probe and the scheduler use for an overrun.
    var timedOutText: String { "timed out after \(self)" }
}

/// How long something took, as people read it in details: `3ms`, `1.24s`.
func describeSeconds(_ seconds: Double) -> String {
    if seconds < 1 {
        let ms = (seconds * 1000).rounded()
        return "\(Int(ms))ms"
    }
    let hundredths = (seconds * 100).rounded() / 100
    return "\(hundredths)s"
}

extension ContinuousClock.Instant {
    /// Seconds elapsed since this instant.
    var secondsSince: Double {
        let d = ContinuousClock.now - self
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
