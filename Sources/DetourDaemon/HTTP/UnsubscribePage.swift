import DetourChannels
import DetourCore
import Foundation
import Hummingbird
import Logging

/// Handles `/unsubscribe`; the listener only maps it to and from Hummingbird's requests.
///
/// `GET` only shows a confirmation page with a button: mail scanners and link previews follow
/// links, and must not unsubscribe anyone. `POST` does it: either from that page's form or from a
/// mail client's one-click unsubscribe (RFC 8058, body `List-Unsubscribe=One-Click`). What the
/// page says is data: the templates in `channels/unsubscribe/` (compiled in), rendered by
/// swift-mustache, which HTML-escapes every value. A bad link gets a plain 400, never a stack trace.
struct UnsubscribePage: Sendable {
    /// One answer: status, content type and body.
    struct Answer: Sendable, Equatable {
        var status: Int
        var contentType: String
        var body: String
    }

    /// What a `POST` body may carry. A link's values normally come in the query; a form's are a
    /// fallback. Other fields are ignored.
    struct Form: Decodable, Sendable, Equatable {
        var b: String?
        var e: String?
        var t: String?
        /// `One-Click` from mail clients (RFC 8058) and from the confirmation page; not required.
        var listUnsubscribe: String?

        enum CodingKeys: String, CodingKey {
            case b, e, t
            case listUnsubscribe = "List-Unsubscribe"
        }
    }

    let links: UnsubscribeLinks
    let onUnsubscribe: @Sendable (BusinessID, String) async throws -> Void
    let logger: Logger

    /// The largest form body read from a POST.
    static let maxFormBytes = 16 * 1024

    /// Headers for every answer: no caching, no referrer (the URL holds a token), no framing.
    static let headers: [String: String] = [
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ]

    /// `GET`: the confirmation page.
    func confirmationPage(query: [String: String]) -> Answer {
        let link: Link
        switch verify(query) {
        case .success(let verified): link = verified
        case .failure(let failure): return failure.answer
        }
        var values = link.values
        values["action"] = "unsubscribe?" + UnsubscribeLinks.query(business: link.business, emailToken: link.emailToken, token: link.token)
        return render(.confirm, values)
    }

    /// `POST`: unsubscribes, taking the link's values from the query (or the form body, as a fallback).
    func unsubscribe(query: [String: String], formBody: String) async -> Answer {
        var values = query
        if let form = decodeForm(formBody) {
            for (name, value) in [("b", form.b), ("e", form.e), ("t", form.t)] where values[name] == nil {
                values[name] = value
            }
        }
        let link: Link
        switch verify(values) {
        case .success(let verified): link = verified
        case .failure(let failure): return failure.answer
        }
        do {
            try await onUnsubscribe(link.business, link.email)
        } catch {
            logger.error("unsubscribe could not be recorded", metadata: [
                "business": "\(link.business)", "unsubscribe.error": "\(error)",
            ])
            return render(.failed)
        }
        logger.info("unsubscribed", metadata: ["business": "\(link.business)"])
        return render(.done, link.values)
    }

    /// An `application/x-www-form-urlencoded` body, decoded by Hummingbird's `URLEncodedFormDecoder`;
    /// nil (and the form ignored, the query still used) when it does not decode, e.g. a repeated
    /// field or a broken percent escape.
    func decodeForm(_ body: String) -> Form? {
        do {
            return try URLEncodedFormDecoder().decode(Form.self, from: body)
        } catch {
            // The error quotes the body, which may hold a token: name only the kind of problem.
            logger.debug("unsubscribe form ignored: it does not decode", metadata: ["unsubscribe.form_bytes": "\(body.utf8.count)"])
            return nil
        }
    }

    // MARK: - Checking a link

    private struct Link {
        var business: BusinessID
        var emailToken: String
        var token: String
        var email: String

        /// The variables the pages see (documented in `channels/unsubscribe/README.md`).
        var values: [String: Any] {
            ["business": ["id": business.rawValue], "email": email]
        }
    }

    private func verify(_ values: [String: String]) -> Result<Link, Failure> {
        guard let business = values["b"], let emailToken = values["e"], let token = values["t"],
              !business.isEmpty, !emailToken.isEmpty, !token.isEmpty else {
            return .failure(Failure(render(.incomplete)))
        }
        guard Slug.isValid(business),
              let email = links.verify(business: BusinessID(business), emailToken: emailToken, token: token) else {
            return .failure(Failure(render(.invalid)))
        }
        return .success(Link(business: BusinessID(business), emailToken: emailToken, token: token, email: email))
    }

    /// Lets an `Answer` travel as a `Result` failure.
    private struct Failure: Error {
        var answer: Answer
        init(_ answer: Answer) { self.answer = answer }
    }

    // MARK: - Pages

    /// The page's templates, `channels/unsubscribe/NAME.mustache`, with the status and type each answers with.
    enum Page: String, CaseIterable, Sendable {
        case confirm, done, incomplete, invalid, failed

        var template: String {
            switch self {
            case .confirm, .done: "unsubscribe/\(rawValue).html"
            case .incomplete, .invalid, .failed: "unsubscribe/\(rawValue).txt"
            }
        }

        var status: Int {
            switch self {
            case .confirm, .done: 200
            case .incomplete, .invalid: 400
            case .failed: 500
            }
        }

        var contentType: String {
            switch self {
            case .confirm, .done: "text/html; charset=utf-8"
            case .incomplete, .invalid, .failed: "text/plain; charset=utf-8"
            }
        }
    }

    /// Each page's template, parsed once.
    private static let templates: [Page: Result<TemplateRenderer, TemplateRenderer.Problem>] = Dictionary(
        uniqueKeysWithValues: Page.allCases.map { page in
            (page, Result { () throws(TemplateRenderer.Problem) in try TemplateRenderer.builtin(page.template) })
        })

    private func render(_ page: Page, _ values: [String: Any] = [:]) -> Answer {
        switch Self.templates[page] {
        case .success(let template):
            return Answer(status: page.status, contentType: page.contentType, body: template.render(values))
        case .failure(let problem):
            // A build without the template: a programmer error, which tests catch.
            logger.error("unsubscribe page template unusable", metadata: ["template": "\(problem)"])
        case nil:
            logger.error("unsubscribe page template missing", metadata: ["template": "\(page.template)"])
        }
        return Answer(status: 500, contentType: "text/plain; charset=utf-8", body: "This page cannot be shown just now.\n")
    }
}
