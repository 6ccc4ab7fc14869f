import DetourChannels
import DetourConfig
import DetourCore
import DetourStore
import Foundation

extension FailoverCoordinator {
    /// Validates every file again and swaps the configuration in one step. A broken file keeps the
    /// running configuration; the errors are logged, audited and shown by `detour status`.
    @discardableResult
    public func reload(configPath: String, environment: [String: String], by: String) async -> ReloadReport {
        let at = now()
        // Parsing and validating touched code the running daemon does not need again.
        defer { StartupPages.release(logger: logger, reason: "reload") }
        let (loaded, diagnostics) = ConfigValidation.load(configPath: configPath, environment: environment)
        guard let loaded else {
            let errors = diagnostics.errors
            let shown = errors.prefix(5).map(\.description).joined(separator: "\n")
            let more = errors.count > 5 ? "\n… and \(errors.count - 5) more; run `detour policy check --config \(configPath)`" : ""
            lastReload = ReloadReport(at: at, ok: false,
                                      message: "reload refused, the running configuration is kept: \(errors.count) error\(errors.count == 1 ? "" : "s")\n\(shown)\(more)")
            metrics.reloadResult(success: false)
            logger.error("configuration reload refused; keeping the running configuration", metadata: [
                "config.file": "\(configPath)", "config.errors": "\(errors.count)",
                "config.first_error": "\(errors.first?.description ?? "")",
            ])
            try? await store.appendAudit(AuditEntry(at: at, actor: by, action: "policy.rejected", business: nil, incident: nil,
                                                    detail: errors.prefix(5).map(\.description).joined(separator: "; ")))
            return lastReload
        }
        var notes: [String] = []
        let old = config
        if old.daemon.statePath != loaded.daemon.statePath || old.daemon.http != loaded.daemon.http || old.daemon.control != loaded.daemon.control {
            notes.append("state, http and control settings take effect at the next restart")
        }
        // Policy versions and the audit trail of what changed.
        var versions: [BusinessID: Int64] = [:]
        var changed = 0, added = 0, removed = 0
        do {
            let ids = try await store.recordPolicyVersions(loaded.policies.map { $0.version(at: at) })
            for (policy, id) in zip(loaded.policies, ids) {
                versions[policy.business] = id
                if let before = policies[policy.business] {
                    guard before.source.contentHash != policy.source.contentHash else { continue }
                    changed += 1
                    try await store.appendAudit(AuditEntry(at: at, actor: by, action: "policy.changed", business: policy.business, incident: nil,
                                                           detail: "\(policy.source.file) sha256 \(policy.source.contentHash.prefix(12))"))
                } else {
                    added += 1
                    try await store.appendAudit(AuditEntry(at: at, actor: by, action: "policy.loaded", business: policy.business, incident: nil,
                                                           detail: "\(policy.source.file) sha256 \(policy.source.contentHash.prefix(12))"))
                }
            }
            let kept = Set(loaded.policies.map(\.business))
            for (business, policy) in policies where !kept.contains(business) {
                removed += 1
                retire(business, policy: policy)
                try await store.appendAudit(AuditEntry(at: at, actor: by, action: "policy.removed", business: business, incident: nil,
                                                       detail: "\(policy.source.file) is gone from the policies directory; an open incident is resolved and its banner cleared"))
            }
        } catch {
            lastReload = ReloadReport(at: at, ok: false, message: "reload failed writing to the state database: \(error)")
            metrics.reloadResult(success: false)
            logger.error("configuration reload failed", metadata: ["error": "\(error)"])
            return lastReload
        }

        config = loaded
        setPolicies(loaded.policies, versions: versions)
        if old.daemon.platforms != loaded.daemon.platforms || old.daemon.controls != loaded.daemon.controls {
            tracker.update(platforms: Array(loaded.daemon.platforms.values), at: at)
            onPlatformsChanged?(loaded.daemon)
        }
        let retiredPolicies = Array(retiredPolicyList)
        channels = await ChannelSet(policies: loaded.policies + retiredPolicies, daemon: loaded.daemon, pools: pools, http: http,
                                    bannerState: bannerState, logger: logger)
        for (business, publisher) in channels.bannerPublishers where old.policy(business) == nil {
            try? await publisher.prepare()
        }
        let decisions = engine.replacePolicies(loaded.policies, now: at)
        for decision in decisions { await apply(decision, at: at) }

        let summary = "\(loaded.policies.count) policies (\(added) new, \(changed) changed, \(removed) removed)"
        lastReload = ReloadReport(at: at, ok: true, message: ([summary] + notes).joined(separator: "; "))
        metrics.reloadResult(success: true)
        logger.notice("configuration reloaded", metadata: ["config.file": "\(configPath)", "config.summary": "\(summary)"])
        updateGauges()
        return lastReload
    }

    var retiredPolicyList: [Policy] { Array(retired.values) }
}

/// Loading the configuration as the daemon does: every file, plus the templates policies name.
public enum ConfigValidation {
    public static func load(configPath: String, environment: [String: String]) -> (LoadedConfiguration?, Diagnostics) {
        let (loaded, diagnostics) = ConfigLoader(environment: environment).load(configPath: configPath)
        for policy in loaded?.policies ?? [] {
            for problem in TemplateCheck.problems(policy) {
                diagnostics.error(policy.source.file, 0, 0, problem.keyPath, problem.message,
                                  hint: "fix the template; channels/README.md lists the variables")
            }
        }
        return (diagnostics.hasErrors ? nil : loaded, diagnostics)
    }
}
