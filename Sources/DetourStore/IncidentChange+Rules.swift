import DetourCore
import Foundation

extension IncidentChange {
    /// The incident the change is about.
    var incidentID: Int64 {
        switch self {
        case .reopen(let incident, _, _, _), .resolve(let incident, _, _, _), .takeOver(let incident, _, _): incident
        }
    }

    /// What `record` becomes under this change, and the time its deliveries are created at; both
    /// stores apply their incident events through this one set of rules.
    ///
    /// - `openOther`: the business's open incident other than this one, if any (a reopen is refused
    ///   while there is one). Read by the caller inside its transaction.
    /// - `auditAt`: a take-over's deliveries are created at its audit entry's time, else now.
    func applied(to record: IncidentRecord, openOther: IncidentRecord?, auditAt: Date?) throws -> (IncidentRecord, at: Date) {
        var row = record
        let id = record.id
        switch self {
        case .reopen(_, let when, let reason, let platforms):
            guard row.state == .resolved else {
                throw StoreError(.conflict, "incident #\(id) of \(row.business) is open; only a resolved one can be reopened")
            }
            if let open = openOther {
                throw StoreError(.conflict, "cannot reopen incident #\(id): \(row.business) already has an open incident (#\(open.id))")
            }
            row.state = .open
            row.resolvedAt = nil
            row.resolvedBy = nil
            row.resolveReason = nil
            row.reason = reason
            row.platforms = platforms
            row.eventSequence += 1
            return (row, when)
        case .resolve(_, let when, let by, let reason):
            guard row.state == .open else { throw StoreError(.conflict, "incident #\(id) of \(row.business) is already resolved") }
            row.state = .resolved
            row.resolvedAt = when
            row.resolvedBy = by
            row.resolveReason = reason
            row.eventSequence += 1
            return (row, when)
        case .takeOver(_, let by, let reason):
            guard row.state == .open else {
                throw StoreError(.conflict, "incident #\(id) of \(row.business) is resolved; it cannot be taken over")
            }
            row.origin = .manual
            row.openedBy = by
            row.reason = reason
            return (row, auditAt ?? Date())
        }
    }
}
