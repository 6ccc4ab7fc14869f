import DetourCore
import Foundation
import Yams

/// A parsed YAML file whose nodes remember where they are, so every problem can name file:line:column.
///
/// Anchors and aliases are refused (they are how "billion laughs" files blow up), and so are
/// multi-document streams; libyaml itself caps nesting.
final class YAMLDocument {
    let source: SourceText
    let diagnostics: Diagnostics
    /// Kept alive while the document is walked: Yams holds node anchors weakly through it.
    private let parser: Parser
    let root: YNode?

    init?(source: SourceText, diagnostics: Diagnostics) {
        self.source = source
        self.diagnostics = diagnostics
        do {
            parser = try Parser(yaml: source.text, resolver: .basic, constructor: .default, encoding: .utf8)
            let node = try parser.singleRoot()
            root = node.map { YNode(node: $0, path: "", document: nil) }
        } catch let error as YamlError {
            Self.report(error, file: source.path, diagnostics: diagnostics)
            return nil
        } catch {
            diagnostics.error(source.path, 0, 0, "", "cannot parse: \(error)")
            return nil
        }
    }

    /// The root, checked to be a mapping (every Detour file is one).
    func rootMapping() -> MappingReader? {
        guard let root else {
            diagnostics.error(source.path, 0, 0, "", "file is empty", hint: "see examples/ for a complete file")
            return nil
        }
        return root.attached(to: self).mapping()
    }

    private static func report(_ error: YamlError, file: String, diagnostics: Diagnostics) {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            var message = "YAML syntax: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            var hint: String? = "check indentation and quoting around this point; values containing ': ' or starting with '*', '&', '!', '%', '@' or '`' need quotes"
            if problem.contains("Maximum nesting level") { message = "nesting is too deep"; hint = "Detour files need only a few levels" }
            diagnostics.error(file, mark.line, mark.column, "", message, hint: hint)
        case let .duplicatedKeysInMapping(duplicates, context):
            diagnostics.error(file, context.mark.line, context.mark.column, "",
                              "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping",
                              hint: "keep one of them")
        case let .reader(problem, offset, _, _):
            diagnostics.error(file, 0, 0, "", "cannot read as YAML: \(problem)\(offset.map { " at byte \($0)" } ?? "")")
        default:
            diagnostics.error(file, 0, 0, "", "cannot parse as YAML: \(error)")
        }
    }
}

/// A node of a `YAMLDocument` with its key path; typed accessors report problems and return nil.
struct YNode {
    let node: Node
    let path: String
    private(set) weak var document: YAMLDocument?

    init(node: Node, path: String, document: YAMLDocument?) {
        self.node = node; self.path = path; self.document = document
    }

    func attached(to doc: YAMLDocument) -> YNode { YNode(node: node, path: path, document: doc) }

    var line: Int { node.mark?.line ?? 0 }
    var column: Int { node.mark?.column ?? 0 }
    var file: String { document?.source.path ?? "" }

    func error(_ message: String, hint: String? = nil) {
        document?.diagnostics.error(file, line, column, path, message, hint: hint)
    }
    func warning(_ message: String, hint: String? = nil) {
        document?.diagnostics.warning(file, line, column, path, message, hint: hint)
    }

    /// Anchors (`&name`) and aliases (`*name`) are refused everywhere.
    private func refuseAnchor() -> Bool {
        if node.anchor != nil || node.alias != nil {
            error("anchors and aliases (&name / *name) are not allowed in Detour files", hint: "write the value out in full")
            return true
        }
        return false
    }

    private var kindName: String {
        switch node {
        case .scalar(let s): return isNull ? "nothing" : "a single value (\"\(s.string.prefix(40))\")"
        case .mapping: return "a mapping (key: value lines)"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// Whether the node is a mapping (for keys that take a value or a mapping).
    var isMapping: Bool {
        if case .mapping = node { return true }
        return false
    }

    var isNull: Bool {
        if case .scalar(let s) = node, s.style == .plain, ["", "~", "null", "Null", "NULL"].contains(s.string) { return true }
        return false
    }

    func mapping() -> MappingReader? {
        guard !refuseAnchor() else { return nil }
        guard case .mapping(let m) = node else {
            error("expected a mapping of keys to values, found \(kindName)")
            return nil
        }
        return MappingReader(node: self, pairs: Array(m))
    }

    func sequence() -> [YNode]? {
        guard !refuseAnchor() else { return nil }
        guard case .sequence(let s) = node else {
            error("expected a list (lines starting with '- ' or [a, b]), found \(kindName)")
            return nil
        }
        return s.enumerated().map { YNode(node: $1, path: "\(path)[\($0)]", document: document) }
    }

    /// A list, or a single value taken as a list of one.
    func sequenceOrOne() -> [YNode]? {
        if case .sequence = node { return sequence() }
        return [self]
    }

    func string(allowEmpty: Bool = false) -> String? {
        guard !refuseAnchor() else { return nil }
        guard case .scalar(let s) = node, !isNull else {
            error("expected text, found \(kindName)")
            return nil
        }
        if !allowEmpty, s.string.trimmingCharacters(in: .whitespaces).isEmpty {
            error("must not be empty")
            return nil
        }
        return s.string
    }

    /// One line of text: no CR or LF (values that end up in headers or subjects).
    func singleLine() -> String? {
        guard let s = string() else { return nil }
        if s.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
            error("must be a single line", hint: "remove the line break")
            return nil
        }
        return s
    }

    func int(in range: ClosedRange<Int>) -> Int? {
        guard let s = string() else { return nil }
        guard let n = Int(s) else {
            error("expected a whole number, found \"\(s.prefix(40))\"", hint: "write a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        guard range.contains(n) else {
            error("\(n) is out of range", hint: "write a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return n
    }

    func bool() -> Bool? {
        guard let s = string() else { return nil }
        switch s {
        case "true": return true
        case "false": return false
        default:
            error("expected true or false, found \"\(s.prefix(40))\"", hint: "write true or false")
            return nil
        }
    }

    func duration(min: TimeSpan = .zero) -> TimeSpan? {
        guard let s = string() else { return nil }
        guard let span = TimeSpan(parsing: s) else {
            error("\"\(s.prefix(40))\" is not a duration", hint: "write a number and a unit: 500ms, 90s, 2m, 1h30m, 1d")
            return nil
        }
        if span.milliseconds < min.milliseconds {
            error("\(span) is too short", hint: "use at least \(min)")
            return nil
        }
        return span
    }

    func oneOf<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> T? where T.RawValue == String {
        guard let s = string() else { return nil }
        if let v = T(rawValue: s) { return v }
        let names = T.allCases.map(\.rawValue)
        error("\"\(s.prefix(40))\" is not one of \(names.joined(separator: ", "))", hint: Suggest.hint(for: s, in: names, what: "choices"))
        return nil
    }

    func child(_ key: String, _ node: Node) -> YNode {
        YNode(node: node, path: path.isEmpty ? key : "\(path).\(key)", document: document)
    }
}
