import DetourCore
import Foundation
import Mustache

/// Renders Mustache templates: the built-in defaults from `channels/` (compiled into the binary)
/// or a policy's own files.
public struct TemplateRenderer: Sendable {
    /// A template that cannot be used, with where it came from.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var source: String
        public var message: String
        public var description: String { "\(source): \(message)" }
    }

    private let template: MustacheTemplate
    /// `builtin:email/opened.txt` or the file path.
    public let source: String
    /// Whether a tag applies a transform, as in `{{uppercased(name)}}`: then a value cannot be
    /// swapped in after rendering (see `PersonalisedRender`).
    let usesTransforms: Bool

    /// A built-in template by its name under `channels/`, e.g. `email/opened.subject`.
    public static func builtin(_ name: String) throws(Problem) -> TemplateRenderer {
        guard let text = BuiltinTemplates.all[name] else {
            throw Problem(source: "builtin:\(name)", message: "no such built-in template")
        }
        return try TemplateRenderer(text: text, source: "builtin:\(name)")
    }

    /// A policy's template file.
    public static func file(_ path: String) throws(Problem) -> TemplateRenderer {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 256 * 1024,
              let text = String(data: data, encoding: .utf8) else {
            throw Problem(source: path, message: "cannot read the template (missing, unreadable, over 256 KiB or not UTF-8)")
        }
        return try TemplateRenderer(text: text, source: path)
    }

    public init(text: String, source: String) throws(Problem) {
        do {
            template = try MustacheTemplate(string: text)
        } catch {
            throw Problem(source: source, message: "template does not parse: \(error)")
        }
        self.source = source
        usesTransforms = Self.hasTransform(text)
    }

    /// True when any `{{…}}` tag holds a parenthesis.
    static func hasTransform(_ text: String) -> Bool {
        var inTag = false
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if !inTag && previous == UInt8(ascii: "{") && byte == UInt8(ascii: "{") { inTag = true }
            else if inTag && byte == UInt8(ascii: "}") { inTag = false }
            else if inTag && byte == UInt8(ascii: "(") { return true }
            previous = inTag ? 0 : byte
        }
        return false
    }

    /// Renders with `values` (a dictionary built by `TemplateValues`).
    public func render(_ values: [String: Any]) -> String {
        template.render(values)
    }
}

/// Turns a `MessageContext` into the variables templates see (documented in `channels/README.md`).
public enum TemplateValues {
    public static func from(_ c: MessageContext, timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current) -> [String: Any] {
        let isoString: (Date) -> String
        let humanString: (Date) -> String
        if timeZone.secondsFromGMT() == 0 {
            isoString = UTCDates.iso
            humanString = UTCDates.human
        } else {
            let iso = ISO8601DateFormatter()
            iso.timeZone = timeZone
            let human = DateFormatter()
            human.locale = Locale(identifier: "en_US_POSIX")
            human.timeZone = timeZone
            human.dateFormat = "d MMM yyyy, HH:mm zzz"
            isoString = iso.string(from:)
            humanString = human.string(from:)
        }
        var v: [String: Any] = [
            "event": c.event.rawValue,
            "opened": c.event == .opened,
            "resolved": c.event == .resolved,
            "test": c.event == .test,
            "business": ["id": c.businessID, "name": c.businessName],
            "incident": c.incidentID,
            "platforms": c.platforms,
            "platform_list": joined(c.platforms),
            "since": humanString(c.since),
            "since_iso": isoString(c.since),
            "message": c.message,
            "contacts": c.contacts.map { ["label": $0.label, "url": $0.url] },
            "has_contacts": !c.contacts.isEmpty,
        ]
        if c.message.isEmpty { v.removeValue(forKey: "message") }
        if let r = c.resolvedAt { v["resolved_at"] = humanString(r); v["resolved_at_iso"] = isoString(r) }
        if let n = c.recipientName, !n.isEmpty { v["name"] = n }
        if let e = c.recipientEmail { v["email"] = e }
        if let l = c.locale { v["locale"] = l }
        if let u = c.unsubscribeURL { v["unsubscribe_url"] = u }
        return v
    }

    /// "Instagram", "Instagram and WhatsApp", "Facebook, Instagram and WhatsApp".
    static func joined(_ items: [String]) -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " and " + (items.last ?? "")
        }
    }
}

/// The names of the compiled-in templates, for checks and documentation.
public enum BuiltinTemplateNames {
    public static var all: [String] { Array(BuiltinTemplates.all.keys) }
    public static func text(_ name: String) -> String? { BuiltinTemplates.all[name] }
}
