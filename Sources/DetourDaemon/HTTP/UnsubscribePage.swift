import DetourCore
import Foundation
import Logging

/// Handles `/unsubscribe`, independent of the HTTP framework.
///
/// `GET` only shows a confirmation page with a button: mail scanners and link previews follow
/// links, and must not unsubscribe anyone. `POST` does it: either from that page's form or from a
/// mail client's one-click unsubscribe (RFC 8058, body `List-Unsubscribe=One-Click`). Every value
/// shown on a page is HTML-escaped; a bad link gets a plain 400, never a stack trace.
struct UnsubscribePage: Sendable {
    /// One answer: status, content type and body.
    struct Answer: Sendable, Equatable {
        var status: Int
        var contentType: String
        var body: String
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
        let action = "unsubscribe?" + UnsubscribeLinks.query(business: link.business, emailToken: link.emailToken, token: link.token)
        return html(200, title: "Unsubscribe", """
            <p>Stop outage notices from <strong>\(Self.escape(link.business.rawValue))</strong> to <strong>\(Self.escape(link.email))</strong>?</p>
            <form method="post" action="\(Self.escape(action))">
            <input type="hidden" name="List-Unsubscribe" value="One-Click">
            <button type="submit">Unsubscribe</button>
            </form>
            """)
    }

    /// `POST`: unsubscribes, taking the link's values from the query (or the form, as a fallback).
    func unsubscribe(query: [String: String], form: [String: String]) async -> Answer {
        let link: Link
        switch verify(query.merging(form) { fromQuery, _ in fromQuery }) {
        case .success(let verified): link = verified
        case .failure(let failure): return failure.answer
        }
        do {
            try await onUnsubscribe(link.business, link.email)
        } catch {
            logger.error("unsubscribe could not be recorded", metadata: [
                "business": "\(link.business)", "unsubscribe.error": "\(error)",
            ])
            return Answer(status: 500, contentType: "text/plain; charset=utf-8",
                          body: "Your unsubscribe could not be recorded just now. Please try the link again later.\n")
        }
        logger.info("unsubscribed", metadata: ["business": "\(link.business)"])
        return html(200, title: "Unsubscribed", """
            <p>Done. <strong>\(Self.escape(link.email))</strong> will no longer get outage notices from <strong>\(Self.escape(link.business.rawValue))</strong>.</p>
            """)
    }

    // MARK: - Checking a link

    private struct Link {
        var business: BusinessID
        var emailToken: String
        var token: String
        var email: String
    }

    private func verify(_ values: [String: String]) -> Result<Link, Failure> {
        guard let business = values["b"], let emailToken = values["e"], let token = values["t"],
              !business.isEmpty, !emailToken.isEmpty, !token.isEmpty else {
            return .failure(Failure(Self.badRequest("This unsubscribe link is incomplete. Open the whole link from the email, or copy all of it into the address bar.")))
        }
        guard Slug.isValid(business),
              let email = links.verify(business: BusinessID(business), emailToken: emailToken, token: token) else {
            return .failure(Failure(Self.badRequest("This unsubscribe link is not valid: it may have been changed or cut short. Open the link from the email again, or reply to the email and ask to be removed.")))
        }
        return .success(Link(business: BusinessID(business), emailToken: emailToken, token: token, email: email))
    }

    /// Lets an `Answer` travel as a `Result` failure.
    private struct Failure: Error {
        var answer: Answer
        init(_ answer: Answer) { self.answer = answer }
    }

    static func badRequest(_ text: String) -> Answer {
        Answer(status: 400, contentType: "text/plain; charset=utf-8", body: text + "\n")
    }

    // MARK: - HTML

    private func html(_ status: Int, title: String, _ content: String) -> Answer {
        let page = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex">
            <title>\(Self.escape(title))</title>
            <style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.5rem 1.25rem}</style>
            </head>
            <body>
            <h1>\(Self.escape(title))</h1>
            \(content)
            </body>
            </html>

            """
        return Answer(status: status, contentType: "text/html; charset=utf-8", body: page)
    }

    /// Escapes text for HTML element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Parses an `application/x-www-form-urlencoded` body; later duplicates are ignored.
    static func parseForm(_ body: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) -> String in
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            if values[name] == nil { values[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return values
    }
}
