@testable import DetourChannels
import Foundation
import Testing

/// The HTML part made from a plain-text template gives exactly what the simple Foundation version gave.
@Suite struct HTMLFromTextTests {
    /// The definition, written with Foundation's string functions.
    private func reference(_ text: String) -> String {
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let paragraphs = normalised.components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .newlines) }
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { "<p>" + PersonalisedRender.htmlEscaped($0).replacingOccurrences(of: "\n", with: "<br>\n") + "</p>" }
        return "<!DOCTYPE html>\n<html><body>\n" + paragraphs.joined(separator: "\n") + "\n</body></html>\n"
    }

    @Test func matchesTheDefinitionOnHandPickedTexts() {
        let texts = ["", "\n", "Hello", "Hi Zoë,\n\nInstagram is down.\nCall us.\n\n\n\nThanks",
                     "a\r\nb\r\n\r\nc\rd\r\re", "\u{2028}x\u{2029}\n\n\u{85}", "  \n\n \t \n\ny", "<b>&\"'</b>\n\ne\u{301}\n",
                     "\n\n\n", "x\n\n\ny", "🏳️‍🌈 flag\r\n\r\n", "\u{0B}\u{0C}v\u{0C}", "a\n \nb"]
        for text in texts { #expect(EmailTemplates.html(fromText: text) == reference(text), "\(text.debugDescription)") }
    }

    @Test func matchesTheDefinitionOnRandomTexts() {
        let alphabet: [String] = ["a", "Z", " ", "\t", "\n", "\r", "\r\n", "<", "&", "\"", "'", "é", "e\u{301}", "\u{2028}", "\u{85}",
                                  "\u{A0}", "🙂", "\u{0B}"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let text = (0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
            #expect(EmailTemplates.html(fromText: text) == reference(text), "\(text.debugDescription)")
        }
    }
}
