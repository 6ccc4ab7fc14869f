import Foundation

/// A policy's own email template for one event, split into its sections. The format
/// (documented in `channels/email/README.md`):
///
///     Subject: Our {{platform_list}} is down
///
///     Text body (Mustache, not HTML-escaped) …
///     --- html ---
///     Optional HTML body (Mustache, HTML-escaped) …
///
/// Without the `--- html ---` section the HTML part is made from the rendered text.
struct EmailOverrideFile: Sendable, Hashable {
    /// The line that starts the optional HTML section.
    static let htmlMarker = "--- html ---"
    static let maxBytes = 256 * 1024

    var subject: String
    var text: String
    var html: String?

    /// Reads and splits the file; throws what is wrong with it, for people.
    static func read(_ path: String) throws(TemplateRenderer.Problem) -> EmailOverrideFile {
        guard let data = FileManager.default.contents(atPath: path), data.count <= maxBytes,
              let text = String(data: data, encoding: .utf8) else {
            throw TemplateRenderer.Problem(source: path, message: "cannot read the template (missing, unreadable, over 256 KiB or not UTF-8)")
        }
        return try parse(text, source: path)
    }

    static func parse(_ raw: String, source: String) throws(TemplateRenderer.Problem) -> EmailOverrideFile {
        var text = raw.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first, first.lowercased().hasPrefix("subject:") else {
            throw TemplateRenderer.Problem(source: source, message: "line 1 must be the subject: \"Subject: Our {{platform_list}} is down\"")
        }
        let subject = first.dropFirst("subject:".count).trimmingCharacters(in: .whitespaces)
        guard !subject.isEmpty else {
            throw TemplateRenderer.Problem(source: source, message: "line 1: the subject is empty")
        }
        lines.removeFirst()
        while lines.first?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeFirst() }

        let markers = lines.indices.filter { lines[$0].trimmingCharacters(in: .whitespaces) == htmlMarker }
        guard markers.count <= 1 else {
            throw TemplateRenderer.Problem(source: source, message: "\"\(htmlMarker)\" appears \(markers.count) times; use it once, before the HTML body")
        }
        var body = lines
        var html: String?
        if let m = markers.first {
            body = Array(lines[..<m])
            html = lines[(m + 1)...].joined(separator: "\n")
            if html?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true {
                throw TemplateRenderer.Problem(source: source, message: "the HTML section after \"\(htmlMarker)\" is empty")
            }
        }
        let bodyText = body.joined(separator: "\n")
        guard !bodyText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw TemplateRenderer.Problem(source: source, message: "the text body after the subject line is empty")
        }
        return EmailOverrideFile(subject: subject, text: bodyText, html: html)
    }
}
