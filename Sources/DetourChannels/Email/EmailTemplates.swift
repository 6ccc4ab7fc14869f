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
        case .test, .alert: nil
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
    ///
    /// Line ends are normalised to LF, paragraphs are split at blank lines ("\n\n"), trimmed of line
    /// breaks (`CharacterSet.newlines`) and dropped when only whitespace (`CharacterSet.whitespaces`).
    /// It runs for every email of a fan-out whose policy has no HTML template, so it works on
    /// scalars rather than with Foundation's string searches.
    static func html(fromText text: String) -> String {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.utf8.count)
        var previousCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\r" { scalars.append("\n"); previousCR = true; continue }
            if scalar == "\n", previousCR { previousCR = false; continue }
            previousCR = false
            scalars.append(scalar)
        }
        var out = "<!DOCTYPE html>\n<html><body>\n"
        out.reserveCapacity(text.utf8.count + 64)
        var first = true
        var start = 0
        var i = 0
        func paragraph(_ range: Range<Int>) {
            var lo = range.lowerBound, hi = range.upperBound
            while lo < hi, CharacterSet.newlines.contains(scalars[lo]) { lo += 1 }
            while hi > lo, CharacterSet.newlines.contains(scalars[hi - 1]) { hi -= 1 }
            guard scalars[lo..<hi].contains(where: { !CharacterSet.whitespaces.contains($0) }) else { return }
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: scalars[lo..<hi])
            if !first { out += "\n" }
            first = false
            out += "<p>"
            for c in escape(String(piece)).unicodeScalars {
                if c == "\n" { out += "<br>\n" } else { out.unicodeScalars.append(c) }
            }
            out += "</p>"
        }
        while i + 1 < scalars.count {
            if scalars[i] == "\n", scalars[i + 1] == "\n" {
                paragraph(start..<i)
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        paragraph(start..<scalars.count)
        return out + "\n</body></html>\n"
    }

    /// HTML-escapes as swift-mustache does, so a plan and a full render agree.
    static func escape(_ s: String) -> String { PersonalisedRender.htmlEscaped(s) }
}
