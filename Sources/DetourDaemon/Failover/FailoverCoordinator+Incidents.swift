import DetourChannels
import DetourCore
import DetourStore
import Foundation

extension FailoverCoordinator {
    /// Opens an incident and queues its deliveries in one transaction.
    @discardableResult
    func open(_ business: BusinessID, origin: IncidentOrigin, by: String, platforms: [PlatformID], reason: String,
              at: Date, audit: AuditEntry?) async throws -> IncidentRecord {
        guard let policy = policies[business], let version = policyVersions[business] else {
            throw StoreError(.notFound, "no policy for business '\(business)'")
        }
        let unsubscribed = try await store.unsubscribed(business: business)
        let deliveries = planner.deliveries(policy: policy, sequence: 1, event: .opened, unsubscribed: unsubscribed,
                                            emailCounts: [:], disabledWebhooks: desk.disabledWebhookNames(business),
                                            stopped: StopList.shared.numbers(policy.sms?.stopFile))
        let record = try await store.openIncident(
            NewIncident(business: business, origin: origin, openedBy: by, reason: reason, platforms: platforms,
                        policyVersion: version, openedAt: at),
            deliveries: deliveries, audit: audit)
        desk.noteIncident(record)
        noteIncident(business, incident: record.engineView)
        metrics.incidentOpened()
        logger.notice("incident opened", metadata: [
            "business": "\(business)", "incident.id": "\(record.id)", "incident.origin": "\(origin.rawValue)",
            "incident.platforms": "\(platforms.map(\.rawValue).joined(separator: ","))", "incident.reason": "\(reason)",
            "deliveries.queued": "\(deliveries.made)",
        ])
        wakeWorkers()
        return record
    }

    func reopen(_ incident: Int64, policy: Policy, platforms: [PlatformID], reason: String, at: Date) async throws {
        guard let current = try await store.incident(incident) else { throw StoreError(.notFound, "incident \(incident)") }
        let sequence = current.eventSequence + 1
        let counts = try await lowercasedCounts(incident)
        let deliveries = planner.deliveries(policy: policy, sequence: sequence, event: .opened,
                                            unsubscribed: try await store.unsubscribed(business: policy.business),
                                            emailCounts: counts, disabledWebhooks: desk.disabledWebhookNames(policy.business),
                                            stopped: StopList.shared.numbers(policy.sms?.stopFile))
        let record = try await store.recordEvent(.reopen(incident: incident, at: at, reason: reason, platforms: platforms),
                                                 deliveries: deliveries, audit: nil)
        desk.noteIncident(record)
        noteIncident(policy.business, incident: record.engineView)
        logger.notice("incident reopened within the cooldown", metadata: [
            "business": "\(policy.business)", "incident.id": "\(incident)", "incident.reason": "\(reason)",
            "deliveries.queued": "\(deliveries.made)",
        ])
        wakeWorkers()
    }

    /// Resolves an open incident and queues the all-clear (and the banner's removal) in one transaction.
    func resolve(_ incident: Int64, business: BusinessID, by: String, reason: String, at: Date,
                 audit: AuditEntry? = nil) async throws {
        guard let current = try await store.incident(incident) else { throw StoreError(.notFound, "incident \(incident)") }
        var deliveries: PlannedDeliveries?
        if let policy = policies[business] ?? retired[business] {
            deliveries = planner.deliveries(policy: policy, sequence: current.eventSequence + 1, event: .resolved,
                                            unsubscribed: try await store.unsubscribed(business: business),
                                            emailCounts: try await lowercasedCounts(incident),
                                            disabledWebhooks: desk.disabledWebhookNames(business),
                                            stopped: StopList.shared.numbers(policy.sms?.stopFile))
        }
        let change = IncidentChange.resolve(incident: incident, at: at, by: by, reason: reason)
        let record = if let deliveries {
            try await store.recordEvent(change, deliveries: deliveries, audit: audit)
        } else {
            try await store.recordEvent(change, deliveries: [NewDelivery](), audit: audit)
        }
        desk.noteIncident(record)
        noteIncident(business, incident: policies[business] == nil ? nil : record.engineView)
        logger.notice("incident resolved", metadata: [
            "business": "\(business)", "incident.id": "\(incident)", "incident.resolved_by": "\(by)",
            "incident.reason": "\(reason)", "deliveries.queued": "\(deliveries?.made ?? 0)",
        ])
        wakeWorkers()
    }

    func lowercasedCounts(_ incident: Int64) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for (address, n) in try await store.messageCounts(incident: incident) { out[address.lowercased(), default: 0] += n }
        return out
    }

    func openManual(business: BusinessID, platforms: [PlatformID], reason: String, by: String, at: Date) async throws {
        let named = platforms.isEmpty ? (policies[business]?.dependsOn ?? []) : platforms
        try await open(business, origin: .manual, by: by, platforms: named, reason: reason, at: at,
                       audit: AuditEntry(at: at, actor: by, action: "failover.open", business: business, incident: nil,
                                         detail: "manual failover opened an incident: \(reason)"))
    }

    // MARK: - Manual actions (from the control socket)

    /// `detour failover start`: opens at once (no grace) and holds until stopped by hand.
    ///
    /// Within the policy's `cooldown` after the last incident was resolved, it continues that incident
    /// (as the probes' own restart does), so `max_per_customer` still holds and customers already told
    /// are not told again; `newIncident` opens a new one regardless.
    public func startFailover(business: BusinessID, platforms: [PlatformID], reason: String, by: String,
                              newIncident: Bool = false) async throws -> String {
        try requireLeading()
        guard let policy = policies[business] else { throw CommandError.unknownBusiness(business, known: policies.keys.sorted()) }
        let unknown = platforms.filter { config.daemon.platforms[$0] == nil }
        if !unknown.isEmpty {
            throw CommandError(message: "unknown platform \(unknown.map(\.rawValue).joined(separator: ", "))",
                               hint: "known platforms: \(config.daemon.platforms.keys.sorted().map(\.rawValue).joined(separator: ", "))")
        }
        let at = now()
        let override = OverrideRecord(business: business, kind: .failover, platforms: platforms, reason: reason, setBy: by, setAt: at, expiresAt: nil)
        try await store.setOverride(override, audit: AuditEntry(at: at, actor: by, action: "failover.start", business: business,
                                                                incident: nil, detail: reason))
        overrideRecords.removeAll { $0.business == business && $0.kind == .failover }
        overrideRecords.append(override)
        defer { updateGauges() }
        if let latest = latest[business], latest.isOpen {
            if latest.origin == .probes {
                let record = try await store.recordEvent(.takeOver(incident: latest.id, by: by, reason: reason), deliveries: [NewDelivery](),
                                                         audit: AuditEntry(at: at, actor: by, action: "failover.takeover", business: business,
                                                                           incident: latest.id, detail: reason))
                desk.noteIncident(record)
                noteIncident(business, incident: record.engineView)
                return "incident \(latest.id) of \(policy.displayName) was already open; it is now held by hand until `detour failover stop --business \(business)`"
            }
            return "incident \(latest.id) of \(policy.displayName) is already failed over by hand"
        }
        let named = platforms.isEmpty ? policy.dependsOn : platforms
        if !newIncident, let last = latest[business], let resolvedAt = last.resolvedAt,
           at.timeIntervalSince(resolvedAt) < policy.cooldown.seconds {
            try await continueByHand(last.id, policy: policy, platforms: named, reason: reason, by: by, at: at)
            let ago = Int(at.timeIntervalSince(resolvedAt).rounded())
            return "incident \(last.id) of \(policy.displayName) was resolved \(ago)s ago, within its cooldown (\(policy.cooldown)): "
                + "it is reopened and held by hand, and customers get no more than max_per_customer emails for it. "
                + "Stop it with `detour failover stop --business \(business)`; `--new-incident` opens a new incident instead"
        }
        let record = try await open(business, origin: .manual, by: by, platforms: named, reason: reason, at: at, audit: nil)
        return "incident \(record.id) opened for \(policy.displayName) (\(named.map(\.rawValue).joined(separator: ", "))); customers are being told. Stop it with `detour failover stop --business \(business)`"
    }

    /// Reopens a recently resolved incident for a manual failover: queues what the policy still
    /// allows (the cap per customer counts every email of the incident), then marks it held by hand.
    func continueByHand(_ incident: Int64, policy: Policy, platforms: [PlatformID], reason: String, by: String, at: Date) async throws {
        try await reopen(incident, policy: policy, platforms: platforms, reason: reason, at: at)
        let record = try await store.recordEvent(.takeOver(incident: incident, by: by, reason: reason), deliveries: [NewDelivery](),
                                                 audit: AuditEntry(at: at, actor: by, action: "failover.continue", business: policy.business,
                                                                   incident: incident, detail: "manual failover within the cooldown continues the incident: \(reason)"))
        desk.noteIncident(record)
        noteIncident(policy.business, incident: record.engineView)
    }

    /// `detour failover stop`: resolves the business's open incident and sends the all-clear.
    public func stopFailover(business: BusinessID, by: String) async throws -> String {
        try requireLeading()
        guard policies[business] != nil || retired[business] != nil else {
            throw CommandError.unknownBusiness(business, known: policies.keys.sorted())
        }
        let at = now()
        let audit = AuditEntry(at: at, actor: by, action: "failover.stop", business: business, incident: nil, detail: "stopped by hand")
        let hadOverride = try await store.clearOverride(business: business, kind: .failover, audit: audit)
        overrideRecords.removeAll { $0.business == business && $0.kind == .failover }
        defer { updateGauges() }
        guard let latest = latest[business], latest.isOpen else {
            if hadOverride { return "no open incident for \(business); the manual failover was cleared" }
            throw CommandError(message: "\(business) has no open incident", hint: "`detour status` lists the businesses that are failed over")
        }
        try await resolve(latest.id, business: business, by: by, reason: "stopped by hand", at: at,
                          audit: hadOverride ? nil : audit)
        // If the probes still see the platforms down, they must not reopen it straight away.
        engine.suppressUntilClear(business)
        return "incident \(latest.id) resolved; the all-clear is on its way and the banner is coming down"
    }

    /// `detour hold`: no automatic failover for this business until released or `until`.
    public func hold(business: BusinessID, until: Date?, reason: String, by: String) async throws -> String {
        try requireLeading()
        guard policies[business] != nil else { throw CommandError.unknownBusiness(business, known: policies.keys.sorted()) }
        let at = now()
        let override = OverrideRecord(business: business, kind: .hold, platforms: [], reason: reason, setBy: by, setAt: at, expiresAt: until)
        try await store.setOverride(override, audit: AuditEntry(at: at, actor: by, action: "hold.set", business: business, incident: nil,
                                                                detail: "\(reason) (until \(until.map { ISO8601DateFormatter().string(from: $0) } ?? "released"))"))
        overrideRecords.removeAll { $0.business == business && $0.kind == .hold }
        overrideRecords.append(override)
        return "\(business) is on hold\(until.map { " until \(ISO8601DateFormatter().string(from: $0))" } ?? ""): the probes will not fail it over"
    }

    /// `detour release`: ends a hold.
    public func release(business: BusinessID, by: String) async throws -> String {
        try requireLeading()
        let at = now()
        let removed = try await store.clearOverride(business: business, kind: .hold,
                                                    audit: AuditEntry(at: at, actor: by, action: "hold.release", business: business, incident: nil, detail: "released"))
        overrideRecords.removeAll { $0.business == business && $0.kind == .hold }
        guard removed else { throw CommandError(message: "\(business) is not on hold", hint: "`detour status` lists holds") }
        return "\(business) is no longer on hold"
    }

    var holds: [OverrideRecord] { overrideRecords.filter { $0.kind == .hold } }
    var manualFailovers: [OverrideRecord] { overrideRecords.filter { $0.kind == .failover } }

    /// The open-incident gauge, from what this actor already knows (no store query, no extra task).
    func updateGauges() {
        metrics.setOpenIncidents(latest.values.filter(\.isOpen).count)
    }

    func retire(_ business: BusinessID, policy: Policy) { retired[business] = policy }
    func setPolicies(_ list: [Policy], versions: [BusinessID: Int64]) {
        policies = Dictionary(list.map { ($0.business, $0) }, uniquingKeysWith: { a, _ in a })
        for p in list { retired[p.business] = nil }
        policyVersions = versions
    }
}
