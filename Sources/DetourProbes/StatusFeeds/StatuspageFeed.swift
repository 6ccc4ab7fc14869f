import DetourCore

/// Atlassian Statuspage v2 `summary.json`: the page's `status.indicator` and its `components[]`.
enum StatuspageFeed {
    static func interpret(_ json: Any, component: String?) -> (verdict: ProbeResult.Verdict, detail: String) {
        guard let root = json as? [String: Any] else { return (.unknown, "feed is not a Statuspage summary") }
        if let component { return interpretComponent(root, named: component) }

        guard let status = root["status"] as? [String: Any], let indicator = status["indicator"] as? String else {
            return (.unknown, "feed has no status.indicator")
        }
        let description = (status["description"] as? String).map { ": \($0)" } ?? ""
        let detail = "page indicator \(indicator)\(description)"
        switch indicator.lowercased() {
        case "none": return (.ok, detail)
        case "minor": return (.slow, detail)
        case "major", "critical": return (.failing, detail)
        case "maintenance": return (.ok, detail)
        default: return (.unknown, "unrecognised page indicator \"\(indicator)\"")
        }
    }

    private static func interpretComponent(_ root: [String: Any], named name: String) -> (verdict: ProbeResult.Verdict, detail: String) {
        guard let components = root["components"] as? [Any] else { return (.unknown, "feed has no components") }
        let matches = components.compactMap { $0 as? [String: Any] }.filter { ($0["name"] as? String)?.sameName(as: name) == true }
        guard !matches.isEmpty else { return (.unknown, "no component named \"\(name)\" in feed") }
        // A name used twice (in two groups) counts at its worst.
        let readings = matches.map { verdict(for: $0["status"] as? String, component: name) }
        return readings.max { $0.verdict.severity < $1.verdict.severity } ?? (.unknown, "no component named \"\(name)\" in feed")
    }

    private static func verdict(for status: String?, component name: String) -> (verdict: ProbeResult.Verdict, detail: String) {
        guard let status else { return (.unknown, "component \"\(name)\" has no status") }
        let detail = "component \"\(name)\": \(status)"
        switch status.lowercased() {
        case "operational": return (.ok, detail)
        case "under_maintenance": return (.ok, detail + " (maintenance)")
        case "degraded_performance", "partial_outage": return (.slow, detail)
        case "major_outage": return (.failing, detail)
        default: return (.unknown, "component \"\(name)\" has unrecognised status \"\(status)\"")
        }
    }
}
