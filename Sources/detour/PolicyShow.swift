import ArgumentParser
import DetourConfig
import DetourCore
import Foundation

/// `detour policy show`: the effective policy of one business after defaults and references, secrets redacted.
struct PolicyShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print one business's effective policy (defaults applied, secrets redacted).",
        discussion: """
        Shows what Detour will actually do for a business: the platforms it watches for it with their
        probes and thresholds, the grace periods, every channel with its settings, and where each secret
        comes from (never the secret itself).

        Examples:
          detour policy show rosies-bakery --config examples/detour.yaml
          detour policy show rosies-bakery --json | jq .channels
        """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: ArgumentHelp("The business id (the `business:` key of its policy).", valueName: "business"))
    var business: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let (loaded, diagnostics) = ConfigLoader().load(configPath: options.path)
        guard let loaded else {
            DiagnosticPrinter.print(diagnostics)
            print("failed: the configuration has errors; run `detour policy check` and fix them first.")
            throw ExitCode(1)
        }
        guard let policy = loaded.policy(BusinessID(business)) else {
            let ids = loaded.policies.map(\.business.rawValue)
            throw ValidationError("no business '\(business)' in \(loaded.daemon.policiesDir). Known: \(ids.joined(separator: ", "))")
        }
        let view = EffectivePolicy(policy: policy, daemon: loaded.daemon)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(view)
        if json {
            print(String(decoding: data, as: UTF8.self))
        } else {
            let object = try JSONSerialization.jsonObject(with: data)
            print(TextTree.render(object), terminator: "")
        }
    }
}

/// The policy with what it refers to in the daemon file filled in.
struct EffectivePolicy: Encodable {
    var policy: Policy
    var platforms: [PlatformSpec]
    var smtp: SMTPServer?

    init(policy: Policy, daemon: DaemonConfig) {
        self.policy = policy
        platforms = policy.dependsOn.compactMap { daemon.platforms[$0] }
        smtp = policy.email.flatMap { daemon.smtp[$0.smtp] }
    }
}

/// Renders decoded JSON as indented `key: value` text for people.
enum TextTree {
    static func render(_ value: Any, indent: String = "") -> String {
        var out = ""
        if let dict = value as? [String: Any] {
            for key in dict.keys.sorted() {
                let v = dict[key] as Any
                if isScalar(v) { out += "\(indent)\(key): \(scalar(v))\n" }
                else if isEmpty(v) { out += "\(indent)\(key): (none)\n" }
                else { out += "\(indent)\(key):\n" + render(v, indent: indent + "  ") }
            }
        } else if let list = value as? [Any] {
            for item in list {
                if isScalar(item) { out += "\(indent)- \(scalar(item))\n" }
                else {
                    let inner = render(item, indent: indent + "  ")
                    out += indent + "- " + inner.dropFirst(indent.count + 2)
                }
            }
        } else {
            out += indent + scalar(value) + "\n"
        }
        return out
    }

    private static func isScalar(_ v: Any) -> Bool { !(v is [String: Any]) && !(v is [Any]) }
    private static func isEmpty(_ v: Any) -> Bool { (v as? [Any])?.isEmpty ?? (v as? [String: Any])?.isEmpty ?? false }
    private static func scalar(_ v: Any) -> String {
        if let s = v as? String { return s.contains("\n") ? s.debugDescription : s }
        if let n = v as? NSNumber { return String(describing: type(of: n)).contains("Boolean") ? (n.boolValue ? "true" : "false") : n.stringValue }
        if v is NSNull { return "(none)" }
        return "\(v)"
    }
}
