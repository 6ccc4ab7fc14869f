import struct Foundation.Date

/// One node's own view of one platform, as that node's probes and health tracker see it, with
/// whether its control probes pass. Every node of a cluster records its views each probe round.
public struct NodeView: Sendable, Hashable, Codable {
    public var node: String
    public var platform: PlatformID
    public var state: PlatformState
    public var reason: String
    /// Most of the node's control probes pass: its own network can tell.
    public var controlsPass: Bool
    /// When the node's view took this state.
    public var since: Date
    /// When the node last recorded it (its last round).
    public var at: Date

    public init(node: String, platform: PlatformID, state: PlatformState, reason: String, controlsPass: Bool, since: Date, at: Date) {
        self.node = node; self.platform = platform; self.state = state; self.reason = reason
        self.controlsPass = controlsPass; self.since = since; self.at = at
    }

    /// The node takes part in the vote: its controls pass and its view is known.
    public var votes: Bool { controlsPass && state != .unknown }
}

/// The platform statuses of a cluster, from every node's view: a platform is down only when a quorum
/// of the nodes that can tell see it down. A node abstains when its own controls fail (its network
/// is down), when it cannot tell, or when its view is older than the platform's `maxAge` (it stopped
/// probing or died; after an hour it is no longer named in the reason).
///
/// `quorum` is a number of nodes, or nil for a majority of the nodes that vote. With a majority, a
/// split (one of two) decides nothing: the platform shows `unknown`, which neither opens nor
/// resolves a failover. A fixed quorum larger than the nodes that vote likewise shows `unknown`.
///
/// A value type with no clock, like `HealthTracker`: the same views give the same statuses.
public struct ClusterVote: Sendable {
    private var statuses: [PlatformID: PlatformStatus] = [:]

    public init() {}

    /// The statuses of the last `update`.
    public var current: [PlatformID: PlatformStatus] { statuses }

    /// Takes every node's views and returns the changes of status they cause.
    /// - Parameter maxAge: how old a view may be and still count, per platform (three rounds or so).
    public mutating func update(platforms: [PlatformID], views: [NodeView], quorum: Int?, maxAge: [PlatformID: Double],
                                now: Date) -> [StatusTransition] {
        var byPlatform: [PlatformID: [NodeView]] = [:]
        for view in views { byPlatform[view.platform, default: []].append(view) }
        var next: [PlatformID: PlatformStatus] = [:]
        var changes: [StatusTransition] = []
        for platform in platforms {
            let age = maxAge[platform] ?? 30
            let (state, reason, downSince) = Self.judge(byPlatform[platform] ?? [], quorum: quorum, maxAge: age, now: now)
            let previous = statuses[platform]
            var status: PlatformStatus
            if let previous, previous.state == state {
                status = previous
                status.reason = reason
            } else {
                status = PlatformStatus(platform: platform, state: state, reason: reason, since: downSince ?? now)
                changes.append(StatusTransition(platform: platform, from: previous?.state ?? .unknown, to: state, reason: reason, at: now))
            }
            next[platform] = status
        }
        statuses = next
        return changes.filter { $0.from != $0.to }
    }

    /// The vote on one platform: its state, the reason in words, and for `down` when the quorum was
    /// reached (the quorum-th earliest `since` of the nodes that see it down).
    static func judge(_ views: [NodeView], quorum: Int?, maxAge: Double, now: Date) -> (PlatformState, String, Date?) {
        let sorted = views.sorted { $0.node < $1.node }
        let fresh = sorted.filter { now.timeIntervalSince($0.at) <= maxAge }
        // A node silent for over an hour is taken to be gone for good, and no longer named.
        let silent = sorted.filter { now.timeIntervalSince($0.at) > maxAge && now.timeIntervalSince($0.at) <= 3600 }.map(\.node)
        let voters = fresh.filter(\.votes)
        let blind = fresh.filter { !$0.controlsPass }.map(\.node)
        let unsure = fresh.filter { $0.controlsPass && $0.state == .unknown }.map(\.node)
        let down = voters.filter { $0.state == .down }
        let notDown = voters.filter { $0.state != .down }
        let needed = quorum ?? (voters.count / 2 + 1)

        var abstaining: [String] = []
        if !blind.isEmpty { abstaining.append("\(names(blind)) abstain\(blind.count == 1 ? "s" : ""): own controls failing") }
        if !unsure.isEmpty { abstaining.append("\(names(unsure)) cannot tell") }
        if !silent.isEmpty { abstaining.append("no recent round from \(names(silent))") }
        let tail = abstaining.isEmpty ? "" : "; " + abstaining.joined(separator: "; ")

        guard !voters.isEmpty else {
            return (.unknown, "no node can tell" + (tail.isEmpty ? ": no node has probed it yet" : tail), nil)
        }
        let count = "\(voters.count) node\(voters.count == 1 ? "" : "s") that can tell"
        if down.count >= needed {
            let since = down.map(\.since).sorted()[needed - 1]
            return (.down, "down for \(down.count) of \(count) (\(names(down.map(\.node)))), quorum \(needed)\(tail)", since)
        }
        if notDown.count >= needed {
            let troubled = voters.filter { $0.state == .degraded || $0.state == .down }
            let state: PlatformState = troubled.isEmpty ? .operational : .degraded
            let downPart = down.isEmpty ? "" : ", down for \(names(down.map(\.node))) only"
            return (state, "up for \(notDown.count) of \(count)\(downPart), quorum \(needed)\(tail)", nil)
        }
        return (.unknown, "no quorum: down for \(down.count) and up for \(notDown.count) of \(count), quorum \(needed)\(tail)", nil)
    }

    private static func names(_ nodes: [String]) -> String { nodes.joined(separator: ", ") }
}

extension HealthTracker {
    /// Whether most control probes of a round pass (or there are none): this machine's network can
    /// tell a platform's outage. A node whose controls fail abstains from a cluster's vote.
    public static func controlsPass(_ controls: [ProbeResult]) -> Bool {
        !ControlAssessment(results: controls).networkDown
    }
}
