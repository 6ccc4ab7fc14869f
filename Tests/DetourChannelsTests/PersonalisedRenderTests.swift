import DetourCore
import Foundation
import Testing
import TestKit
@testable import DetourChannels

/// The per-incident plan must give, for every customer, exactly what a full Mustache render gives.
/// The oracle is a fresh `EmailTemplates` per customer: its first render of a shape is always full.
@Suite struct PersonalisedRenderTests {
    /// Names that stress escaping, white space, grapheme clusters and the markers' own characters.
    static let names: [String?] = [
        "Zoë", "Ann", nil, "", "   ", "O'Brien & <Sons>", "\"Quoted\" Name", "Ünïcödé 🥐 Crème",
        "e\u{301}", " \u{301}leading mark", "two  spaces", "line\nbreak", "tab\tname", "👩‍👩‍👧 family",
        "<script>alert(1)</script>", "&amp; already", "\u{E000}<rcp0x\u{E001}", "Ａｎｎ", "a\u{200D}b",
    ]

    static let urls: [String?] = [
        "https://detour.rosies.example/unsubscribe/tok_1", nil, "https://x.example/u?a=1&b=<2>", "",
    ]

    /// Every name × URL through one instance (plans after the first of each shape) equals a full render.
    @Test(arguments: MessageEvent.toCustomers)
    func builtinPlansMatchFullRendersForEveryCustomer(_ event: MessageEvent) throws {
        let shared = try EmailTemplates.builtin(event)
        var count = 0
        for name in Self.names {
            for url in Self.urls {
                let context = EmailFixtures.context(event, name: name, email: "c\(count)@customers.example", unsubscribe: url)
                let planned = shared.render(context)
                let full = try EmailTemplates.builtin(event).render(context)
                #expect(planned == full, "name \(String(reflecting: name)), url \(String(reflecting: url))")
                count += 1
            }
        }
        // Shapes: name and URL present or absent (4); every other email came from a plan.
        #expect(shared.plannedRenders >= count - 4)
    }

    /// A template that transforms a per-customer value cannot be planned; every email is still right.
    @Test func transformsAndTextOnlyOverridesStayCorrect() throws {
        let dir = try TempDir()
        let transformed = try dir.write("upper.email", """
            Subject: For {{uppercased(name)}} from {{business.name}}

            Dear {{uppercased(name)}}, {{#name}}({{name}}){{/name}} write to {{email}}.
            --- html ---
            <p>Dear {{lowercased(name)}} &mdash; {{{name}}} / {{name}}</p>
            """)
        let textOnly = try dir.write("text.email", """
            Subject: Hello {{name}}

            Hi {{name}},

            {{message}}

            Bye {{email}}
            """)
        for (path, planned) in [(transformed, false), (textOnly, true)] {
            let shared = try EmailTemplates.file(path)
            defer { #expect((shared.plannedRenders > 0) == planned, "\(path)") }
            for (i, name) in Self.names.enumerated() {
                let context = EmailFixtures.context(name: name, email: "c\(i)@customers.example")
                #expect(shared.render(context) == (try EmailTemplates.file(path)).render(context),
                        "\(path): name \(String(reflecting: name))")
            }
        }
    }

    /// A policy text holding the marker characters turns planning off for that incident.
    @Test func markerCharactersInThePolicyTextAreHarmless() throws {
        let shared = try EmailTemplates.builtin(.opened)
        for (i, name) in ["Ann", "Bob", "Cy"].enumerated() {
            let context = EmailFixtures.context(name: name, email: "c\(i)@x.example",
                                                message: "Call \u{E000}<rcp0x\u{E001} or \u{E001} now")
            let planned = shared.render(context)
            #expect(planned == (try EmailTemplates.builtin(.opened)).render(context))
            #expect(planned.text.contains("Hi \(name),"))
        }
        #expect(shared.plannedRenders == 0)
    }

    @Test func markersAreFoundRawAndEscapedAndStraysRefused() {
        let field = PersonalisedRender.Field.name
        #expect(PersonalisedRender.pieces("Hi \(field.marker), <b>\(field.escapedMarker)</b>") == [
            .literal("Hi "), .value(.name, escaped: false), .literal(", <b>"), .value(.name, escaped: true), .literal("</b>"),
        ])
        #expect(PersonalisedRender.pieces("Hi \u{E000}<RCP0X\u{E001}") == nil, "a transformed marker")
        #expect(PersonalisedRender.pieces("Hi \u{E001}") == nil)
        #expect(PersonalisedRender.htmlEscaped("a<b>&\"'c") == "a&lt;b&gt;&amp;&quot;&#39;c")
    }
}

@Suite struct QuotedPrintableTests {
    /// Decodes quoted-printable (RFC 2045 §6.7) for the round trip.
    static func decode(_ encoded: String) -> String {
        String(decoding: decodeBytes(encoded), as: UTF8.self)
    }

    static func decodeBytes(_ encoded: String) -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(encoded.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "=") {
                if i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "\r"), bytes[i + 2] == UInt8(ascii: "\n") {
                    i += 3
                    continue
                }
                out.append(UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) ?? 0)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    static let samples: [String] = [
        "", "plain", "trailing space ", "trailing tab\t", "a=b", ".leading dot", "From the start", "Fromage",
        String(repeating: "é", count: 100), String(repeating: "x", count: 74) + "🥐🥐🥐" + String(repeating: "y", count: 200),
        "line one\r\nline two\rline three\nline four\r\n", "\r\n\r\n", String(repeating: "word ", count: 60),
        String(repeating: "a", count: 75), String(repeating: "a", count: 76), "naïve café — ok 👩‍👩‍👧",
    ]

    @Test(arguments: samples)
    func roundTripsWithShortLinesAndWholeCharacters(_ text: String) {
        let encoded = QuotedPrintable.encode(text)
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
        #expect(Self.decode(encoded) == normalised)
        for line in encoded.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= QuotedPrintable.maxLineLength, "\(line)")
            #expect(line.allSatisfy { $0.isASCII })
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"), "no trailing white space")
            #expect(!line.hasPrefix(".") && !line.hasPrefix("From "))
            // A soft break never splits a character: what each encoded line decodes to is valid UTF-8 on its own.
            let piece = Self.decodeBytes(line.hasSuffix("=") ? String(line.dropLast()) : line)
            #expect(String(validating: piece, as: UTF8.self) != nil, "\(line)")
        }
    }
}
