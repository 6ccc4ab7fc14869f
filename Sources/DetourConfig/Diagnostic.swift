/// One problem found in a configuration file, with where it is and what to write instead.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case error, warning
        public static func < (a: Self, b: Self) -> Bool { a == .error && b == .warning }
    }

    public var severity: Severity
    public var file: String
    /// 1-based; 0 when the problem is about the whole file.
    public var line: Int
    public var column: Int
    /// Dotted key path (`channels.email.from`, `webhooks[1].url`); empty for the whole file.
    public var keyPath: String
    public var message: String
    /// What to write instead, when there is a clear answer.
    public var hint: String?

    public init(_ severity: Severity, file: String, line: Int = 0, column: Int = 0, keyPath: String = "",
                message: String, hint: String? = nil) {
        self.severity = severity; self.file = file; self.line = line; self.column = column
        self.keyPath = keyPath; self.message = message; self.hint = hint
    }

    /// `file:line:column: error: key.path: message (hint)`, the form compilers use, so editors can jump to it.
    public var description: String {
        var out = file
        if line > 0 { out += ":\(line):\(column)" }
        out += ": \(severity.rawValue): "
        if !keyPath.isEmpty { out += "\(keyPath): " }
        out += message
        if let hint { out += "\n    hint: \(hint)" }
        return out
    }
}

/// Collects every diagnostic of a load, so one run reports all problems in all files.
public final class Diagnostics: @unchecked Sendable {
    public private(set) var all: [Diagnostic] = []

    public init() {}

    public func add(_ d: Diagnostic) { all.append(d) }
    public func error(_ file: String, _ line: Int, _ column: Int, _ keyPath: String, _ message: String, hint: String? = nil) {
        add(Diagnostic(.error, file: file, line: line, column: column, keyPath: keyPath, message: message, hint: hint))
    }
    public func warning(_ file: String, _ line: Int, _ column: Int, _ keyPath: String, _ message: String, hint: String? = nil) {
        add(Diagnostic(.warning, file: file, line: line, column: column, keyPath: keyPath, message: message, hint: hint))
    }

    public var errors: [Diagnostic] { all.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { all.filter { $0.severity == .warning } }
    public var hasErrors: Bool { all.contains { $0.severity == .error } }

    /// Errors for one file, in file order.
    public func errors(in file: String) -> [Diagnostic] { errors.filter { $0.file == file } }

    /// Everything, sorted by file and position.
    public var sorted: [Diagnostic] {
        all.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
    }
}
