import struct Foundation.Date

/// The sentences that explain a platform status to a person. Every reason the tracker gives is built here.
enum HealthReason {
    static let noRoundYet = "no probe round yet"

    /// `our own network is down: 2 of 3 control probes failing: dns www.wikipedia.org SERVFAIL; …`
    static func networkDown(_ controls: ControlAssessment) -> String {
        "our own network is down: \(controls.failing.count) of \(controls.counted) control probes failing: "
            + items(controls.failing)
    }

    /// A round in which no own probe could tell.
    static func nothingCouldTell(_ round: RoundAssessment) -> String {
        round.unknown.isEmpty ? "no probe results in this round" : "no probe could tell: " + items(round.unknown)
    }

    /// What this round saw: `3 of 3 probes failing for 1m30s: dns instagram.com SERVFAIL; …`,
    /// `1 of 2 probes slow: https://www.instagram.com/ took 6.2s`, `2 of 2 probes ok`.
    /// `failingFor` is the time since the first failing round of the current streak.
    static func round(_ round: RoundAssessment, failingFor: TimeSpan?) -> String {
        switch round.kind {
        case .unknown:
            return nothingCouldTell(round)
        case .healthy:
            return "\(round.ownCounted) of \(round.ownCounted) probes ok"
        case .failing:
            let duration = failingFor.flatMap { $0 > .zero ? " for \($0)" : nil } ?? ""
            return "\(round.failingVotes) of \(round.votes) probes failing\(duration): "
                + items(round.ownFailing + round.feedVotes)
        case .degraded:
            var counts: [String] = []
            if !round.ownFailing.isEmpty || !round.feedVotes.isEmpty {
                counts.append("\(round.failingVotes) of \(round.votes) probes failing")
            }
            if !round.ownSlow.isEmpty {
                counts.append(counts.isEmpty ? "\(round.ownSlow.count) of \(round.ownCounted) probes slow"
                                             : "\(round.ownSlow.count) slow")
            }
            if !round.feedTrouble.isEmpty {
                let feeds = round.feedTrouble.count == 1 ? "status feed reports" : "\(round.feedTrouble.count) status feeds report"
                counts.append("\(feeds) trouble")
            }
            if round.ownFailing.isEmpty && round.ownSlow.isEmpty {
                counts.append("own probes ok")
            }
            return counts.joined(separator: ", ") + ": "
                + items(round.ownFailing + round.feedVotes + round.ownSlow + round.feedTrouble)
        }
    }

    /// A failing round that has not yet reached the failure threshold.
    static func pendingDown(_ summary: String, streak: Int, threshold: Int) -> String {
        "\(summary) (\(streak) of \(threshold) failing rounds before down)"
    }

    /// A down platform with healthy rounds that have not yet reached the success threshold.
    static func recovering(_ summary: String, streak: Int, threshold: Int) -> String {
        "recovering, \(streak) of \(threshold) healthy rounds so far: \(summary)"
    }

    /// A platform held down because it changed state too often.
    static func heldForFlapping(_ summary: String, flap: FlapSettings) -> String {
        "held down for flapping (more than \(flap.maxTransitions) changes in \(flap.window)) "
            + "until no failing round for \(flap.stableFor): \(summary)"
    }

    /// `dns instagram.com SERVFAIL; https://www.instagram.com timed out after 10s`
    static func items(_ results: [ProbeResult]) -> String {
        results.map { $0.detail.isEmpty ? $0.probe : "\($0.probe) \($0.detail)" }.joined(separator: "; ")
    }

    /// Whole seconds from `start` to `end`, as Detour writes durations (`1m30s`).
    static func span(from start: Date, to end: Date) -> TimeSpan {
        .seconds(max(0, Int64(end.timeIntervalSince(start).rounded(.down))))
    }
}
