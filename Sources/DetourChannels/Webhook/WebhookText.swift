import DetourCore
import Foundation

/// The words a webhook carries for people: a one-line headline and a body, rendered from
/// `channels/webhook/opened.mustache` and `resolved.mustache` or the policy's own files.
///
/// A template's first non-empty line is the headline; the rest is the body. Test events use the
/// opened template (with `test` true). Besides the variables every channel gets, webhook templates
/// see `has_message` (false when the policy gives no recovery text).
public struct WebhookText: Sendable, Hashable, Codable {
    public var headline: String
    public var body: String

    public init(headline: String, body: String) { self.headline = headline; self.body = body }

    /// Splits rendered template output into headline and body.
    public init(rendered: String) {
        let lines = rendered.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        let first = lines.firstIndex { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let first else { self.init(headline: "", body: ""); return }
        self.init(headline: lines[first].trimmingCharacters(in: .whitespaces),
                  body: lines[(first + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// The opened and resolved templates of one webhook, loaded once.
public struct WebhookTemplates: Sendable {
    public let opened: TemplateRenderer
    public let resolved: TemplateRenderer

    /// The built-in templates, replaced by the policy's files where it names them.
    public init(_ refs: TemplateRefs) throws(TemplateRenderer.Problem) {
        opened = try Self.load(refs.opened, builtin: "webhook/opened")
        resolved = try Self.load(refs.resolved, builtin: "webhook/resolved")
    }

    private static func load(_ path: String?, builtin: String) throws(TemplateRenderer.Problem) -> TemplateRenderer {
        if let path { return try TemplateRenderer.file(path) }
        return try TemplateRenderer.builtin(builtin)
    }

    /// Headline and body for `context`.
    public func text(for context: MessageContext) -> WebhookText {
        // An operator alert is Detour's own words, not the business's templates.
        if context.event == .alert { return WebhookText(headline: "\(context.businessName): Detour needs attention", body: context.message) }
        var values = TemplateValues.from(context)
        values["has_message"] = !context.message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        let template = context.event == .resolved ? resolved : opened
        return WebhookText(rendered: template.render(values))
    }
}
