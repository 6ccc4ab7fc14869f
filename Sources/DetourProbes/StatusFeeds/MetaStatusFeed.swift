import DetourCore

/// Meta's status data (`metastatus.com/data/orgs.json`): orgs (`id`, `name`), each with `services[]`
/// carrying a `name` and a status phrase such as `No known issues` or `High disruptions`.
///
/// Read tolerantly: a top-level array of orgs, an object holding one under `orgs` or `data`, or a single org.
/// A component selects a service by name in any org, `org/service` within one org (by id or name), or a
/// whole org by id or name (its worst service). Without a component, the worst service of the feed counts.
enum MetaStatusFeed {
    /// How a detail begins when the feed does not publish the component at all.
    static let notInFeed = "not in feed"
    private struct Service { var org: String; var name: String; var status: String? }

    static func interpret(_ json: Any, component: String?) -> (verdict: ProbeResult.Verdict, detail: String) {
        guard let orgs = orgList(json) else { return (.unknown, "feed is not Meta status data") }
        let services = orgs.flatMap { org -> [Service] in
            let orgName = (org["name"] as? String) ?? (org["id"] as? String) ?? "?"
            return (org["services"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }.compactMap { s in
                guard let name = s["name"] as? String else { return nil }
                return Service(org: orgName, name: name, status: s["status"] as? String)
            }
        }
        guard !services.isEmpty else { return (.unknown, "feed lists no services") }
        guard let component else { return summarise(services, scope: "feed") }

        let byName = services.filter { $0.name.sameName(as: component) }
        if !byName.isEmpty { return summarise(byName, scope: "service \"\(component)\"") }
        if let slash = component.firstIndex(of: "/") {
            let orgPart = String(component[..<slash]), servicePart = String(component[component.index(after: slash)...])
            let inOrg = orgs.filter { isOrg($0, named: orgPart) }.flatMap { org in
                services.filter { $0.org == ((org["name"] as? String) ?? (org["id"] as? String) ?? "?") && $0.name.sameName(as: servicePart) }
            }
            if !inOrg.isEmpty { return summarise(inOrg, scope: "service \"\(component)\"") }
        }
        let orgMatches = orgs.filter { isOrg($0, named: component) }
        let orgNames = Set(orgMatches.map { ($0["name"] as? String) ?? ($0["id"] as? String) ?? "?" })
        let inOrgs = services.filter { orgNames.contains($0.org) }
        if !inOrgs.isEmpty { return summarise(inOrgs, scope: "org \"\(component)\"") }
        // Distinct from a status Detour cannot read: the feed does not publish this at all, so
        // the probe can never corroborate anything (a misspelt or retired component).
        let orgIDs = orgs.compactMap { $0["id"] as? String }.prefix(20).joined(separator: ", ")
        return (.unknown, "\(notInFeed): no org or service named \"\(component)\" (its orgs: \(orgIDs))")
    }

    /// Maps Meta's status phrase to a verdict, tolerating wording changes; nil for phrases we do not know.
    static func verdict(forStatus raw: String) -> ProbeResult.Verdict {
        let s = raw.trimmingCharacters(in: .whitespaces).lowercased()
        if s.isEmpty { return .unknown }
        if s.hasPrefix("no known issue") || s == "resolved" || s == "operational" { return .ok }
        if s.contains("maintenance") { return .ok }
        if s.contains("partial outage") { return .slow }
        if s.contains("outage") || s.contains("critical") { return .failing }
        if s.contains("disruption") {
            if ["high", "major", "severe"].contains(where: s.contains) { return .failing }
            if ["low", "minor", "medium", "moderate", "some"].contains(where: s.contains) { return .slow }
            return .unknown
        }
        if s.contains("degraded") { return .slow }
        return .unknown
    }

    private static func summarise(_ services: [Service], scope: String) -> (verdict: ProbeResult.Verdict, detail: String) {
        let judged = services.map { ($0, $0.status.map(verdict(forStatus:)) ?? .unknown) }
        let worst = judged.map(\.1).max { $0.severity < $1.severity } ?? .unknown
        if services.count == 1, let only = services.first {
            let phrase = only.status ?? "no status"
            return (worst, "\(only.org)/\(only.name): \(phrase)" + (worst == .unknown && only.status != nil ? " (unrecognised)" : ""))
        }
        let troubled = judged.filter { $0.1 != .ok }
        guard !troubled.isEmpty else { return (.ok, "\(scope): no known issues in \(services.count) services") }
        let listed = troubled.sorted { $0.1.severity > $1.1.severity }.prefix(4)
            .map { "\($0.0.org)/\($0.0.name): \($0.0.status ?? "no status")" }.joined(separator: "; ")
        let more = troubled.count > 4 ? "; and \(troubled.count - 4) more" : ""
        return (worst, listed + more)
    }

    private static func orgList(_ json: Any) -> [[String: Any]]? {
        if let list = json as? [Any] { return list.compactMap { $0 as? [String: Any] } }
        guard let object = json as? [String: Any] else { return nil }
        for key in ["orgs", "data", "organizations"] {
            if let list = object[key] as? [Any] { return list.compactMap { $0 as? [String: Any] } }
        }
        if object["services"] != nil { return [object] }
        return nil
    }

    private static func isOrg(_ org: [String: Any], named name: String) -> Bool {
        (org["id"] as? String)?.sameName(as: name) == true || (org["name"] as? String)?.sameName(as: name) == true
    }
}
