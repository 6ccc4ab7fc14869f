import DetourChannels
import DetourConfig
import DetourCore
import DetourStore
import Dispatch
import Foundation

extension FailoverCoordinator {
    /// Validates every file again and swaps the configuration in one step. A broken file keeps the
    /// running configuration; the errors are logged, audited and shown by `detour status`.
    ///
    /// The files are read and checked, and the new channels built, off the deciding actor (on a
    /// thread of their own), so probes, decisions, deliveries and the CLI go on meanwhile: a huge
    /// audience or a slow disk delays only the reload. Then the new configuration is swapped in
    /// whole. Reloads run one at a time, in the order asked.
    @discardableResult
    public nonisolated func reload(configPath: String, environment: [String: String], by: String) async -> ReloadReport {
        await reloads.run { await self.loadAndSwap(configPath: configPath, environment: environment, by: by) }
    }

    private nonisolated func loadAndSwap(configPath: String, environment: [String: String], by: String) async -> ReloadReport {
        let at = now()
        // Parsing and validating touched code the running daemon does not need again.
        defer { StartupPages.release(logger: logger, reason: "reload") }
        let (loaded, diagnostics) = await ConfigValidation.loadOffThread(configPath: configPath, environment: environment)
        guard let loaded else { return await refuse(diagnostics, configPath: configPath, by: by, at: at) }
        return await swap(to: loaded, configPath: configPath, by: by, at: at)
    }

    private func refuse(_ diagnostics: Diagnostics, configPath: String, by: String, at: Date) async -> ReloadReport {
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

    /// Puts a loaded configuration in force: policy versions and audit entries, then the delivering
    /// side (its channels are built there, while this actor goes on deciding), then the engine and
    /// the probes, and finally banners that must show the new text.
    private func swap(to loaded: LoadedConfiguration, configPath: String, by: String, at: Date) async -> ReloadReport {
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

        // The delivering side first: deliveries this reload's decisions queue need the new policies there.
        await desk.install(PolicySnapshot(policies: loaded.policies, retired: Array(retired.values), daemon: loaded.daemon))
        config = loaded
        setPolicies(loaded.policies, versions: versions)
        if old.daemon.platforms != loaded.daemon.platforms || old.daemon.controls != loaded.daemon.controls {
            tracker.update(platforms: Array(loaded.daemon.platforms.values), at: at)
            onPlatformsChanged?(loaded.daemon)
        }
        metrics.watch(Array(loaded.daemon.platforms.keys))
        let decisions = engine.replacePolicies(loaded.policies, now: at)
        for decision in decisions { await apply(decision, at: at) }
        // Customers see the banner now: an open incident's banner shows the policy's current text.
        let edited = loaded.policies.filter { p in old.policy(p.business).map { $0.source.contentHash != p.source.contentHash } ?? false }
        await desk.republishOpenBanners(Set(edited.map(\.business)).filter { latest[$0]?.isOpen == true })

        let summary = "\(loaded.policies.count) policies (\(added) new, \(changed) changed, \(removed) removed)"
        lastReload = ReloadReport(at: at, ok: true, message: ([summary] + notes).joined(separator: "; "))
        metrics.reloadResult(success: true)
        logger.notice("configuration reloaded", metadata: ["config.file": "\(configPath)", "config.summary": "\(summary)"])
        updateGauges()
        return lastReload
    }
}

/// Loading the configuration as the daemon does: every file, plus the templates policies name.
public enum ConfigValidation {
    /// `load` on a thread of its own, never on the task pool: reading files may block (a slow disk,
    /// a huge audience) and must not hold up the daemon's other work.
    public static func loadOffThread(configPath: String, environment: [String: String]) async -> (LoadedConfiguration?, Diagnostics) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: load(configPath: configPath, environment: environment))
            }
        }
    }

    public static func load(configPath: String, environment: [String: String]) -> (LoadedConfiguration?, Diagnostics) {
        let (loaded, diagnostics) = ConfigLoader(environment: environment).load(configPath: configPath)
        let names = (loaded?.daemon.platforms ?? [:]).mapValues(\.displayName)
        for policy in loaded?.policies ?? [] {
            for problem in TemplateCheck.problems(policy, platformNames: names) {
                diagnostics.error(policy.source.file, 0, 0, problem.keyPath, problem.message,
                                  hint: "fix the template; channels/README.md lists the variables")
            }
        }
        return (diagnostics.hasErrors ? nil : loaded, diagnostics)
    }
}
