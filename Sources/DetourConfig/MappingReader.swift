import Yams

/// Reads the keys of one YAML mapping. Every key the loader asks for counts as known; `finish()`
/// reports the rest as unknown with a "did you mean" suggestion.
final class MappingReader {
    let node: YNode
    private var entries: [(key: String, keyNode: Node, value: Node)] = []
    private var asked: [String] = []
    private var used: Set<String> = []

    init(node: YNode, pairs: [(Node, Node)]) {
        self.node = node
        for (k, v) in pairs {
            guard case .scalar(let s) = k else {
                YNode(node: k, path: node.path, document: node.document).error("keys must be plain words")
                continue
            }
            entries.append((s.string, k, v))
        }
    }

    var keys: [String] { entries.map(\.key) }

    /// The value under `key`, or nil when absent (or written with no value).
    func optional(_ key: String) -> YNode? {
        if !asked.contains(key) { asked.append(key) }
        guard let e = entries.first(where: { $0.key == key }) else { return nil }
        used.insert(key)
        let v = node.child(key, e.value)
        return v.isNull ? nil : v
    }

    /// The value under `key`; reports a missing key at the mapping's position.
    func required(_ key: String, hint: String) -> YNode? {
        if let v = optional(key) { return v }
        let present = entries.contains { $0.key == key }
        let where_ = node.path.isEmpty ? "" : " under \(node.path)"
        node.document?.diagnostics.error(node.file, node.line, node.column, node.path.isEmpty ? key : "\(node.path).\(key)",
                                         present ? "'\(key)' has no value" : "missing required key '\(key)'\(where_)", hint: hint)
        return nil
    }

    /// Every entry, for mappings whose keys are names (SMTP servers, platforms).
    func named() -> [(name: String, keyNode: YNode, value: YNode)] {
        entries.map { e in
            used.insert(e.key)
            return (e.key, YNode(node: e.keyNode, path: node.path, document: node.document), node.child(e.key, e.value))
        }
    }

    /// Reports keys that were never asked for.
    func finish() {
        for e in entries where !used.contains(e.key) && !asked.contains(e.key) {
            let k = YNode(node: e.keyNode, path: node.path.isEmpty ? e.key : "\(node.path).\(e.key)", document: node.document)
            k.error("unknown key '\(e.key)'", hint: Suggest.hint(for: e.key, in: asked))
        }
    }
}
