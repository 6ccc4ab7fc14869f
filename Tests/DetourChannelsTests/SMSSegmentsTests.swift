@testable import DetourChannels
import DetourCore
import Testing

/// SMS segment counts as carriers bill them (GSM 03.38 and UCS-2 rules).
@Suite struct SMSSegmentsTests {
    func count(_ text: String) -> (SMSSegments.Encoding, Int, Int) {
        let s = SMSSegments(text)
        return (s.encoding, s.units, s.segments)
    }

    @Test func gsmTextsUpTo160SeptetsAreOneSegmentThen153APart() {
        #expect(count("") == (.gsm7, 0, 0))
        #expect(count(String(repeating: "a", count: 160)) == (.gsm7, 160, 1))
        #expect(count(String(repeating: "a", count: 161)) == (.gsm7, 161, 2))
        #expect(count(String(repeating: "a", count: 306)) == (.gsm7, 306, 2))
        #expect(count(String(repeating: "a", count: 307)) == (.gsm7, 307, 3))
        #expect(count("Café £5 @ Rosie's: ÄÖÜ ñ è").0 == .gsm7, "accents of the GSM alphabet stay GSM-7")
    }

    @Test func extensionCharactersCostTwoSeptetsAndAreNeverSplit() {
        #expect(count("€10 [promo] {x} ~ | ^ \\") == (.gsm7, 32, 1), "23 characters, 9 of them from the extension table: 23 + 9")
        #expect(count(String(repeating: "€", count: 80)) == (.gsm7, 160, 1))
        // 152 septets, then a two-septet € that cannot straddle the boundary: a third part.
        #expect(count(String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152)).2 == 3)
    }

    @Test func anyCharacterOutsideGSMMakesTheWholeTextUCS2() {
        #expect(count("Call us ✆") == (.ucs2, 9, 1))
        #expect(count("“smart quotes”").0 == .ucs2)
        #expect(count("ç").0 == .ucs2, "only the capital Ç is in the GSM alphabet")
        #expect(count(String(repeating: "ж", count: 70)) == (.ucs2, 70, 1))
        #expect(count(String(repeating: "ж", count: 71)) == (.ucs2, 71, 2))
        #expect(count(String(repeating: "ж", count: 134)) == (.ucs2, 134, 2))
        #expect(count(String(repeating: "ж", count: 135)) == (.ucs2, 135, 3))
    }

    @Test func anEmojiIsTwoUnitsAndStaysWhole() {
        #expect(count("😀") == (.ucs2, 2, 1))
        // 66 units, then a two-unit emoji that does not fit the 67 of the part: it starts the next.
        #expect(count(String(repeating: "ж", count: 66) + "😀" + String(repeating: "ж", count: 66)).2 == 3)
    }
}

@Suite struct PhoneNumberTests {
    @Test func writtenFormsNormaliseToE164() {
        #expect(PhoneNumber("+44 7700 900123")?.e164 == "+447700900123")
        #expect(PhoneNumber("+1 (415) 555-0100")?.e164 == "+14155550100")
        #expect(PhoneNumber("0044 7700 900123")?.e164 == "+447700900123")
        #expect(PhoneNumber(" +33.6.12.34.56.78 ")?.e164 == "+33612345678")
    }

    @Test func anythingElseIsRefused() {
        for bad in ["07700 900123", "+0 7700 900123", "+44 7700 9001x3", "+1234567", "+1234567890123456", "44+7700900123", "", "+"] {
            #expect(PhoneNumber(bad) == nil, "\(bad)")
        }
    }
}
