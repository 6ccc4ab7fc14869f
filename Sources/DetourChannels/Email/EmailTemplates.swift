import DetourCore
import Foundation

/// The three texts of one email after rendering.
public struct RenderedEmail: Sendable, Hashable {
    public var subject: String
    public var text: String
    public var html: String
}

/// The templates of one email event: subject, text body and HTML body, either the built-in defaults
/// (`channels/email/<event>.{subject,txt,html}.mustache`) or a policy's override file.
public struct EmailTemplates: Sendable {
    private let subject: TemplateRenderer
    private let text: TemplateRenderer
    /// nil: the HTML part is made from the rendered text.
    private let html: TemplateRenderer?
    /// Where these templates came from, for error messages.
    public let source: String
    /// The rendering shared by every customer of an incident.
    private let planner: PersonalisedRender

    /// Subject and text are plain text: Mustache must not HTML-escape what goes into them.
    private static let plainText = "{{% CONTENT_TYPE: TEXT}}"

    /// The built-in templates for an event.
    public static func builtin(_ event: MessageEvent) throws(TemplateRenderer.Problem) -> EmailTemplates {
        let base = "email/\(event.rawValue)"
        func text(_ part: String) throws(TemplateRenderer.Problem) -> String {
            guard let t = BuiltinTemplateNames.text("\(base).\(part)") else {
                throw TemplateRenderer.Problem(source: "builtin:\(base).\(part)", message: "no such built-in template")
            }
            return t
        }
        return try EmailTemplates(subject: text("subject"), text: text("txt"), html: text("html"),
                                  source: "builtin:\(base)")
    }

    /// A policy's override file (format in `channels/email/README.md`).
    public static func file(_ path: String) throws(TemplateRenderer.Problem) -> EmailTemplates {
        let file = try EmailOverrideFile.read(path)
        return try EmailTemplates(subject: file.subject, text: file.text, html: file.html, source: path)
    }

    /// The templates for `event`: the policy's override when it has one for that event, else the built-in.
    public static func forEvent(_ event: MessageEvent, refs: TemplateRefs) throws(TemplateRenderer.Problem) -> EmailTemplates {
        let path: String? = switch event {
        case .opened: refs.opened
        case .resolved: refs.resolved
        case .test: nil
        }
        if let path { return try file(path) }
        return try builtin(event)
    }

    /// What is wrong with a policy's email override files, one sentence each; empty when they are usable.
    /// Used by `detour policy check`.
    public static func validate(refs: TemplateRefs) -> [String] {
        var problems: [String] = []
        for (event, path) in [("opened", refs.opened), ("resolved", refs.resolved)] {
            guard let path else { continue }
            do {
                _ = try file(path)
            } catch {
                problems.append("email template for \(event): \(error)")
            }
        }
        return problems
    }

    init(subject: String, text: String, html: String?, source: String) throws(TemplateRenderer.Problem) {
        self.subject = try TemplateRenderer(text: Self.plainText + subject, source: "\(source) (subject)")
        self.text = try TemplateRenderer(text: Self.plainText + text, source: "\(source) (text)")
        self.html = try html.map { (h: String) throws(TemplateRenderer.Problem) in
            try TemplateRenderer(text: h, source: "\(source) (html)")
        }
        self.source = source
        planner = PersonalisedRender(plannable: ![self.subject, self.text, self.html].contains { $0?.usesTransforms == true })
    }

    /// How many emails were made from a per-incident plan rather than rendered in full.
    var plannedRenders: Int { planner.planned.load(ordering: .relaxed) }

    /// Renders the three texts for one message.
    public func render(_ context: MessageContext) -> RenderedEmail {
        let raw = planner.render(context, full: renderTemplates)
        let subjectLine = HeaderEncoding.singleSpaced(raw.subject)
        return RenderedEmail(subject: subjectLine, text: raw.text,
                             html: raw.html == RenderedEmail.htmlFromTextMarker ? Self.html(fromText: raw.text) : raw.html)
    }

    /// The templates rendered with Mustache: the subject as rendered (not yet on one line), and the
    /// HTML-from-text marker when there is no HTML template.
    private func renderTemplates(_ context: MessageContext) -> RenderedEmail {
        var values = TemplateValues.from(context)
        // swift-mustache treats "" as true in {{#section}}: drop empty texts so `{{#message}}…{{/message}}`
        // leaves out an empty recovery message (a missing value renders as "" anyway).
        for (key, value) in values {
            if let text = value as? String, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { values[key] = nil }
        }
        return RenderedEmail(subject: subject.render(values), text: text.render(values),
                             html: html?.render(values) ?? RenderedEmail.htmlFromTextMarker)
    }

    /// A minimal HTML body from plain text: escaped, one `<p>` per paragraph, `<br>` for line breaks.
    static func html(fromText text: String) -> String {
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let paragraphs = normalised.components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .newlines) }
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { "<p>" + escape($0).replacingOccurrences(of: "\n", with: "<br>\n") + "</p>" }
        return "<!DOCTYPE html>\n<html><body>\n" + paragraphs.joined(separator: "\n") + "\n</body></html>\n"
    }

    /// HTML-escapes as swift-mustache does, so a plan and a full render agree.
    static func escape(_ s: String) -> String { PersonalisedRender.htmlEscaped(s) }
}
