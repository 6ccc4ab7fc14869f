import Foundation
import Synchronization

/// Renders an incident's emails once, not once per customer.
///
/// Every customer of one incident gets the same email except for their name, address and
/// unsubscribe link. The first email of an incident renders the templates with a marker in place of
/// each of those values and keeps the result as a plan: literal text with holes. Each further
/// customer's email is the plan with their values put in the holes, HTML-escaped where Mustache
/// escaped the marker. A plan is only kept when it provably gives what Mustache gives: the markers
/// came out whole (no transform such as `uppercased(name)` touched them), the shared texts contain
/// no marker characters, and the plan filled in for the first customer equals that customer's
/// full render. Otherwise every email of that shape is rendered in full, as before.
final class PersonalisedRender: Sendable {
    /// The values that differ between the customers of one incident, as templates name them.
    enum Field: Int, CaseIterable, Sendable {
        case name, email, unsubscribeURL

        /// Marker put in place of the value; "<" shows whether Mustache escaped it, the letters whether a transform changed it.
        var marker: String { "\u{E000}<rcp\(rawValue)x\u{E001}" }
        var escapedMarker: String { "\u{E000}&lt;rcp\(rawValue)x\u{E001}" }

        func value(in context: MessageContext) -> String? {
            switch self {
            case .name: context.recipientName
            case .email: context.recipientEmail
            case .unsubscribeURL: context.unsubscribeURL
            }
        }

        func set(_ value: String?, in context: inout MessageContext) {
            switch self {
            case .name: context.recipientName = value
            case .email: context.recipientEmail = value
            case .unsubscribeURL: context.unsubscribeURL = value
            }
        }
    }

    /// One rendered text with holes.
    enum Piece: Sendable, Equatable {
        case literal(String)
        case value(Field, escaped: Bool)
    }

    /// The three texts with holes; `html` nil when the HTML part is made from the text part.
    struct Plan: Sendable {
        var subject: [Piece]
        var text: [Piece]
        var html: [Piece]?
    }

    private enum Entry: Sendable {
        case plan(Plan)
        /// This shape cannot be planned; render in full.
        case full
    }

    /// Which values are present (non-blank) decides which template sections render, so it is part of the shape.
    private struct Shape: Hashable, Sendable {
        var shared: MessageContext
        var present: [Bool]
    }

    private let entries = Mutex<[Shape: Entry]>([:])
    /// Emails made from a plan so far (for tests and debugging).
    let planned = Atomic<Int>(0)
    /// Shapes kept at once; an incident has one or two (customers with and without a name).
    private let capacity = 32
    /// False when a template uses a transform, so markers cannot stand in for values.
    private let plannable: Bool

    init(plannable: Bool) {
        self.plannable = plannable
    }

    /// The email for `context`, from the plan of its shape when there is one, else from `full`,
    /// which renders the templates (the caller normalises the subject and makes an HTML part from
    /// the text afterwards, for plans and full renders alike).
    func render(_ context: MessageContext, full: (MessageContext) -> RenderedEmail) -> RenderedEmail {
        guard plannable else { return full(context) }
        var present: [Bool] = []
        var shared = context
        for field in Field.allCases {
            present.append(field.value(in: context).map { !Self.isBlank($0) } ?? false)
            field.set(nil, in: &shared)
        }
        let shape = Shape(shared: shared, present: present)
        switch entries.withLock({ $0[shape] }) {
        case .plan(let plan):
            planned.add(1, ordering: .relaxed)
            return fill(plan, with: context)
        case .full:
            return full(context)
        case nil:
            let rendered = full(context)
            let entry = makeEntry(shared: shared, present: present, checkedAgainst: rendered, for: context, full: full)
            entries.withLock {
                if $0.count >= capacity { $0.removeAll() }
                $0[shape] = entry
            }
            return rendered
        }
    }

    private func makeEntry(shared: MessageContext, present: [Bool], checkedAgainst rendered: RenderedEmail, for context: MessageContext,
                           full: (MessageContext) -> RenderedEmail) -> Entry {
        guard !Self.containsMarkerCharacters(shared) else { return .full }
        // Absent (nil or blank) values are left out of the template values whatever they are, so
        // every customer of this shape renders the same there; present ones become markers.
        var marked = shared
        for (field, isPresent) in zip(Field.allCases, present) where isPresent {
            field.set(field.marker, in: &marked)
        }
        let withMarkers = full(marked)
        guard let subject = Self.pieces(withMarkers.subject), let text = Self.pieces(withMarkers.text) else { return .full }
        var html: [Piece]?
        if withMarkers.html != RenderedEmail.htmlFromTextMarker {
            guard let pieces = Self.pieces(withMarkers.html) else { return .full }
            html = pieces
        }
        let plan = Plan(subject: subject, text: text, html: html)
        // The plan must give exactly what Mustache gave for this customer.
        return fill(plan, with: context) == rendered ? .plan(plan) : .full
    }

    /// The plan with `context`'s values in its holes.
    private func fill(_ plan: Plan, with context: MessageContext) -> RenderedEmail {
        RenderedEmail(subject: Self.join(plan.subject, context), text: Self.join(plan.text, context),
                      html: plan.html.map { Self.join($0, context) } ?? RenderedEmail.htmlFromTextMarker)
    }

    private static func join(_ pieces: [Piece], _ context: MessageContext) -> String {
        var out = ""
        var size = 0
        for piece in pieces {
            switch piece {
            case .literal(let text): size += text.utf8.count
            case .value(let field, _): size += (field.value(in: context)?.utf8.count ?? 0) + 32
            }
        }
        out.reserveCapacity(size)
        for piece in pieces {
            switch piece {
            case .literal(let text): out += text
            case .value(let field, let escaped):
                let value = field.value(in: context) ?? ""
                out += escaped ? htmlEscaped(value) : value
            }
        }
        return out
    }

    /// Splits a render at its markers; nil when a marker came out altered or a stray marker character is left.
    static func pieces(_ rendered: String) -> [Piece]? {
        var pieces: [Piece] = []
        var rest = Substring(rendered)
        while let start = rest.firstIndex(of: "\u{E000}") {
            let before = rest[..<start]
            if before.contains("\u{E001}") { return nil }
            if !before.isEmpty { pieces.append(.literal(String(before))) }
            rest = rest[start...]
            var matched = false
            for field in Field.allCases {
                if rest.hasPrefix(field.marker) {
                    pieces.append(.value(field, escaped: false))
                    rest = rest.dropFirst(field.marker.count)
                    matched = true
                    break
                }
                if rest.hasPrefix(field.escapedMarker) {
                    pieces.append(.value(field, escaped: true))
                    rest = rest.dropFirst(field.escapedMarker.count)
                    matched = true
                    break
                }
            }
            if !matched { return nil }
        }
        if rest.contains("\u{E001}") { return nil }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        return pieces
    }

    /// Empty or only white space (as `trimmingCharacters(in: .whitespacesAndNewlines)` sees it).
    static func isBlank(_ text: String) -> Bool {
        for byte in text.utf8 {
            if byte >= 0x80 { return text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            if !(byte == 0x20 || (0x09...0x0D).contains(byte)) { return false }
        }
        return true
    }

    private static func containsMarkerCharacters(_ c: MessageContext) -> Bool {
        let texts = [c.businessID, c.businessName, c.incidentID, c.message, c.locale ?? ""] + c.platforms
            + c.contacts.flatMap { [$0.label, $0.url] }
        return texts.contains { $0.unicodeScalars.contains { $0 == "\u{E000}" || $0 == "\u{E001}" } }
    }

    /// HTML escaping exactly as swift-mustache does it: by character, the same five characters.
    static func htmlEscaped(_ text: String) -> String {
        var ascii = true
        var special = false
        for byte in text.utf8 {
            if byte >= 0x80 { ascii = false } else if byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0x22 || byte == 0x27 { special = true }
        }
        guard special else { return text }
        if ascii { return asciiEscaped(text) }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for c in text {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension PersonalisedRender {
    /// `htmlEscaped` for ASCII text, where every byte is a character of its own (CR LF aside,
    /// which is never escaped), so escaping by byte gives the same.
    private static func asciiEscaped(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 32)
        for byte in text.utf8 {
            switch byte {
            case 0x3C: out.append(contentsOf: "&lt;".utf8)
            case 0x3E: out.append(contentsOf: "&gt;".utf8)
            case 0x26: out.append(contentsOf: "&amp;".utf8)
            case 0x22: out.append(contentsOf: "&quot;".utf8)
            case 0x27: out.append(contentsOf: "&#39;".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension RenderedEmail {
    /// Placeholder for an HTML part still to be made from the text part (policy templates without HTML).
    static let htmlFromTextMarker = "\u{E000}html-from-text\u{E001}"
}
