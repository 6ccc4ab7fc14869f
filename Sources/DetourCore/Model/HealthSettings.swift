/// How probe results become a platform status: cadence, thresholds, quorum and flap damping.
public struct HealthSettings: Sendable, Hashable, Codable {
    /// Time between rounds.
    public var interval: TimeSpan = .seconds(30)
    /// Random spread added to each round's start, as a share of the interval (0 to 0.5).
    public var jitter: Double = 0.1
    /// Hard timeout of one probe.
    public var timeout: TimeSpan = .seconds(10)
    /// Consecutive failing rounds before a platform is down.
    public var failureThreshold: Int = 3
    /// Consecutive non-failing rounds (operational or degraded) before a down platform comes back.
    public var successThreshold: Int = 2
    /// Share of a platform's own probes that must fail for a round to count as failing.
    public var quorum: Quorum = .majority
    /// Flap damping.
    public var flap: FlapSettings = .init()

    public init() {}
}

/// How many of a platform's probes must fail in a round for the round to fail.
public enum Quorum: Sendable, Hashable, Codable, CustomStringConvertible {
    /// More than half.
    case majority
    /// At least one.
    case any
    /// Every one.
    case all
    /// At least this many (capped at the number of probes).
    case atLeast(Int)

    /// Whether `failing` failures out of `total` probes meet this quorum.
    public func isMet(failing: Int, of total: Int) -> Bool {
        guard total > 0, failing > 0 else { return false }
        switch self {
        case .majority: return failing * 2 > total
        case .any: return true
        case .all: return failing == total
        case .atLeast(let n): return failing >= min(n, total)
        }
    }

    public init?(parsing text: String) {
        switch text {
        case "majority": self = .majority
        case "any": self = .any
        case "all": self = .all
        default:
            guard let n = Int(text), n >= 1 else { return nil }
            self = .atLeast(n)
        }
    }

    public var description: String {
        switch self {
        case .majority: return "majority"
        case .any: return "any"
        case .all: return "all"
        case .atLeast(let n): return "\(n)"
        }
    }

    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let q = Quorum(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a quorum: \(text)"))
        }
        self = q
    }
}

/// A platform that changes status more than `maxTransitions` times within `window` is held down
/// until it has been stable for `stableFor`.
public struct FlapSettings: Sendable, Hashable, Codable {
    public var maxTransitions: Int = 4
    public var window: TimeSpan = .minutes(10)
    public var stableFor: TimeSpan = .minutes(10)
    public init() {}
}
