import DetourCore
import Foundation

/// The daemon file and every policy, validated together.
public struct LoadedConfiguration: Sendable {
    public var daemon: DaemonConfig
    public var policies: [Policy]

    public func policy(_ id: BusinessID) -> Policy? { policies.first { $0.business == id } }
}

/// Loads `detour.yaml` and the policies it points at, reporting every problem in every file in one run.
///
/// Nothing is returned when there is any error: a broken policy never replaces a good one.
public struct ConfigLoader: Sendable {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// `$DETOUR_CONFIG`, else `/etc/detour/detour.yaml`.
    public static func defaultConfigPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        environment["DETOUR_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/detour/detour.yaml"
    }

    /// The control socket the daemon file names (`control.socket`, relative to the file), read without
    /// the rest of the file: a CLI run without the daemon's secrets in its environment still finds the
    /// daemon. Nil when the file cannot be read or names none.
    public static func controlSocket(configPath: String) -> String? {
        let diagnostics = Diagnostics()
        guard let source = SourceText.read(configPath, diagnostics: diagnostics),
              let doc = YAMLDocument(source: source, diagnostics: diagnostics), let root = doc.rootMapping(),
              let control = root.optional("control")?.mapping(), let s = control.optional("socket")?.singleLine() else { return nil }
        return resolve(s, relativeTo: (configPath as NSString).deletingLastPathComponent)
    }

    /// Loads the daemon file and either the named policy files or every `*.yaml`/`*.yml` in its policies directory.
    public func load(configPath: String, policyFiles: [String]? = nil) -> (LoadedConfiguration?, Diagnostics) {
        let diagnostics = Diagnostics()
        let (daemon, unwatched) = DaemonConfigLoader(environment: environment, diagnostics: diagnostics).read(configPath)
        let daemonOK = !diagnostics.hasErrors

        let references = PolicyReferences(
            platforms: Set((daemon?.platforms.keys.map(\.rawValue)) ?? PlatformID.builtIn.map(\.rawValue)),
            smtpServers: daemonOK ? Set(daemon?.smtp.keys.map { $0 } ?? []) : nil,
            allowPrivateWebhookTargets: daemon?.webhooks.allowPrivateTargets ?? false,
            unwatched: unwatched, daemonFile: configPath)

        var files = policyFiles ?? []
        if policyFiles == nil, let dir = daemon?.policiesDir {
            files = Self.policyFiles(in: dir, diagnostics: diagnostics, configPath: configPath)
        }
        let loader = PolicyLoader(environment: environment, diagnostics: diagnostics, references: references)
        var policies: [Policy] = []
        var firstSeen: [BusinessID: (file: String, line: Int)] = [:]
        for file in files {
            guard let (policy, line, column) = loader.load(file) else { continue }
            if let first = firstSeen[policy.business] {
                diagnostics.error(file, line, column, "business",
                                  "business id '\(policy.business)' is already used by \(first.file):\(first.line)",
                                  hint: "every business needs its own id; rename one of them")
                continue
            }
            firstSeen[policy.business] = (file, line)
            policies.append(policy)
        }
        guard let daemon, !diagnostics.hasErrors else { return (nil, diagnostics) }
        return (LoadedConfiguration(daemon: daemon, policies: policies.sorted { $0.business < $1.business }), diagnostics)
    }

    /// The policy files in a directory, sorted; hidden and backup files are skipped.
    static func policyFiles(in dir: String, diagnostics: Diagnostics, configPath: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            diagnostics.error(configPath, 0, 0, "policies", "cannot read the policies directory \(dir)",
                              hint: FileManager.default.fileExists(atPath: dir) ? "make it readable by the user detour runs as" : "create it, or set policies: to the right directory")
            return []
        }
        return names.filter { !$0.hasPrefix(".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }
            .sorted().map { (dir as NSString).appendingPathComponent($0) }
    }
}
