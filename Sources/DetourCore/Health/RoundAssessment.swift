/// What one round says about a platform on its own, before hysteresis and before control probes.
///
/// Counting rules:
/// - results with verdict `.unknown` are left out of every count;
/// - the platform's own probes vote; a status feed votes only when it is failing and at least one
///   own probe fails too, and then it counts as one more probe (failing and in the total), so a
///   feed can tip a close round but never outvote the own probes alone;
/// - an ok or slow feed never votes, so it cannot cancel a quorum of failing own probes.
struct RoundAssessment: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// Every counted probe ok.
        case healthy
        /// Something is off, but not enough for a failing round.
        case degraded
        /// The quorum of probes failed.
        case failing
        /// No own probe could tell.
        case unknown
    }

    var kind: Kind
    /// Own probes whose verdict was not `.unknown`.
    var ownCounted: Int
    var ownFailing: [ProbeResult]
    var ownSlow: [ProbeResult]
    /// Failing status feeds that voted with the own probes.
    var feedVotes: [ProbeResult]
    /// Failing or slow status feeds that did not vote.
    var feedTrouble: [ProbeResult]
    /// Results that could not tell.
    var unknown: [ProbeResult]

    /// Failing probes in the quorum count.
    var failingVotes: Int { ownFailing.count + feedVotes.count }
    /// Probes in the quorum count.
    var votes: Int { ownCounted + feedVotes.count }

    init(results: [ProbeResult], quorum: Quorum) {
        let own = results.filter { !$0.corroborating }
        let feeds = results.filter(\.corroborating)
        ownCounted = own.filter { $0.verdict != .unknown }.count
        ownFailing = own.filter { $0.verdict == .failing }
        ownSlow = own.filter { $0.verdict == .slow }
        let feedsFailing = feeds.filter { $0.verdict == .failing }
        let feedsSlow = feeds.filter { $0.verdict == .slow }
        if ownFailing.isEmpty {
            feedVotes = []
            feedTrouble = feedsFailing + feedsSlow
        } else {
            feedVotes = feedsFailing
            feedTrouble = feedsSlow
        }
        unknown = results.filter { $0.verdict == .unknown }

        if ownCounted == 0 {
            kind = .unknown
        } else if quorum.isMet(failing: ownFailing.count + feedVotes.count, of: ownCounted + feedVotes.count) {
            kind = .failing
        } else if !ownFailing.isEmpty || !ownSlow.isEmpty || !feedTrouble.isEmpty || !feedVotes.isEmpty {
            kind = .degraded
        } else {
            kind = .healthy
        }
    }
}

/// What the control probes of one round say about our own network.
struct ControlAssessment: Sendable, Hashable {
    /// Control results whose verdict was not `.unknown`.
    var counted: Int
    var failing: [ProbeResult]

    /// Most of the controls that could tell are failing: our own network is down.
    var networkDown: Bool { Quorum.majority.isMet(failing: failing.count, of: counted) }

    init(results: [ProbeResult]) {
        counted = results.filter { $0.verdict != .unknown }.count
        failing = results.filter { $0.verdict == .failing }
    }
}
