import DetourCore
import Foundation

/// Resolves secret references when files load: `env:NAME`, `credential:NAME` (systemd `LoadCredential=`),
/// a `*_file` key, or the value written inline. The value never appears in a diagnostic.
struct SecretReader {
    let environment: [String: String]
    let baseDir: String

    /// Reads `key` (inline or `env:`/`credential:` reference) or `<key>_file`, at most one of them.
    func read(_ m: MappingReader, _ key: String, inlineWarning: String? = nil) -> Secret? {
        let fileKey = "\(key)_file"
        let inline = m.optional(key)
        let file = m.optional(fileKey)
        if let inline, file != nil {
            inline.error("write either '\(key)' or '\(fileKey)', not both")
            return nil
        }
        if let file {
            guard let path = file.string() else { return nil }
            return readFile(resolve(path, relativeTo: baseDir), node: file)
        }
        guard let inline, let text = inline.string() else { return nil }
        if text.hasPrefix("env:") {
            let name = String(text.dropFirst(4))
            guard let value = environment[name], !value.isEmpty else {
                inline.error("environment variable \(name) is not set (or empty)",
                             hint: "set \(name) in the daemon's environment (systemd: Environment= or EnvironmentFile=), or use \(fileKey)")
                return nil
            }
            return Secret(value, origin: "env:\(name)")
        }
        if text.hasPrefix("credential:") {
            let name = String(text.dropFirst(11))
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                inline.error("'\(name)' is not a credential name", hint: "write credential:NAME with the name given to LoadCredential=NAME:…")
                return nil
            }
            guard let dir = environment["CREDENTIALS_DIRECTORY"] else {
                inline.error("credential:\(name) needs $CREDENTIALS_DIRECTORY, which systemd sets for LoadCredential=",
                             hint: "run under systemd with LoadCredential=\(name):/path, or use \(fileKey)")
                return nil
            }
            return readFile((dir as NSString).appendingPathComponent(name), node: inline, origin: "credential:\(name)")
        }
        if let inlineWarning { inline.warning(inlineWarning, hint: "use \(key): env:NAME, \(key): credential:NAME or \(fileKey): PATH") }
        return Secret(text, origin: "inline in \((inline.file as NSString).lastPathComponent)")
    }

    private func readFile(_ path: String, node: YNode, origin: String? = nil) -> Secret? {
        if let problem = FileKind.notRegular(path) {
            node.error("secret file \(path) \(problem)", hint: "check the path")
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            node.error("cannot read secret file \(path)", hint: FileManager.default.fileExists(atPath: path)
                       ? "make it readable by the user detour runs as (and by no one else: chmod 600)" : "check the path")
            return nil
        }
        guard data.count <= 64 * 1024, var text = String(data: data, encoding: .utf8) else {
            node.error("secret file \(path) is not a short UTF-8 text file")
            return nil
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else {
            node.error("secret file \(path) is empty")
            return nil
        }
        if let attrs = try? FileManager.default.attributesOfItem(atPath: path),
           let mode = attrs[.posixPermissions] as? Int, mode & 0o077 != 0 {
            node.warning("secret file \(path) is readable by group or others (mode \(String(mode & 0o777, radix: 8)))",
                         hint: "chmod 600 \(path)")
        }
        return Secret(text, origin: origin ?? "file:\(path)")
    }
}

/// A path from a file, made absolute against the directory of the file that names it.
func resolve(_ path: String, relativeTo dir: String) -> String {
    if path.hasPrefix("/") { return path }
    if path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] {
        return (home as NSString).appendingPathComponent(String(path.dropFirst(2)))
    }
    return ((dir as NSString).appendingPathComponent(path) as NSString).standardizingPath
}
