import DetourCore
import Foundation

/// Reads a platform's official status feed and says what it claims: ok, slow, failing or unknown.
///
/// Pure: bytes in, verdict out, so every feed shape is tested without a network. A feed that cannot
/// be parsed, or that lacks the named component, is `.unknown`, never `.failing`: a broken feed must
/// not raise an alarm.
public enum StatusFeedInterpreter {
    /// The verdict and a detail a person can read, for a feed body in `format`, looking at `component`
    /// (a Statuspage component or a Meta service, matched case-insensitively) or at the whole page when nil.
    public static func interpret(data: Data, format: StatusFeedCheck.Format, component: String?)
        -> (verdict: ProbeResult.Verdict, detail: String) {
        let wanted = component.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        if format == .metastatusRSS { return MetaStatusRSS.interpret(data, component: wanted) }
        guard let json = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return (.unknown, "feed is not valid JSON")
        }
        switch format {
        case .statuspage: return StatuspageFeed.interpret(json, component: wanted)
        case .metastatus: return MetaStatusFeed.interpret(json, component: wanted)
        case .metastatusRSS: return MetaStatusRSS.interpret(data, component: wanted)
        }
    }
}

extension ProbeResult.Verdict {
    /// How bad a verdict is, for picking the worst of several: ok < unknown < slow < failing.
    var severity: Int {
        switch self {
        case .ok: return 0
        case .unknown: return 1
        case .slow: return 2
        case .failing: return 3
        }
    }
}

extension String {
    /// Case- and space-insensitive equality for names people type into config files.
    func sameName(as other: String) -> Bool {
        trimmingCharacters(in: .whitespaces).caseInsensitiveCompare(other.trimmingCharacters(in: .whitespaces)) == .orderedSame
    }
}
