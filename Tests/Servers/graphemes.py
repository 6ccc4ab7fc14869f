"""Grapheme clusters for the stand-ins that count as people see (Mastodon's and Bluesky's text limits):
an approximation of UAX #29 with the standard library only (Hangul syllables, combining marks,
variation selectors, emoji modifiers and ZWJ sequences, regional-indicator pairs)."""
import unicodedata


def _hangul(cp):
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return None


def _extends(cp, ch):
    """Grapheme_Extend / SpacingMark / emoji modifiers, variation selectors and tag characters."""
    return (unicodedata.category(ch) in ("Mn", "Me", "Mc") or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF
            or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F)


def _pictographic(cp, ch):
    return cp >= 0x1F000 or unicodedata.category(ch) == "So" or 0x2190 <= cp <= 0x2BFF or cp in (0x00A9, 0x00AE)


def graphemes(text):
    """Count extended grapheme clusters: CR LF, combining marks, ZWJ emoji sequences, variation selectors,
    skin-tone modifiers, regional-indicator pairs (flags), tag sequences, Hangul jamo and Indic conjuncts stay
    together. Prepend characters and the finer points of UAX #29 are not modelled."""
    count, prev, prev_h, ri_run, after_zwj, after_virama = 0, None, None, 0, False, False
    for ch in text:
        cp = ord(ch)
        h = _hangul(cp)
        ri = 0x1F1E6 <= cp <= 0x1F1FF
        control = unicodedata.category(ch) in ("Cc", "Zl", "Zp") and cp != 0x200D
        join = False
        if prev is None:
            join = False
        elif prev == 0x0D and cp == 0x0A:
            join = True
        elif prev in (0x0D, 0x0A) or unicodedata.category(chr(prev)) in ("Cc", "Zl", "Zp") or control:
            join = False
        elif cp == 0x200D or _extends(cp, ch):
            join = True
        elif after_zwj and _pictographic(cp, ch):
            join = True
        elif after_virama and unicodedata.category(ch) == "Lo":
            join = True  # an Indic conjunct: consonant + virama + consonant (GB9c)
        elif ri and ri_run % 2 == 1:
            join = True
        elif prev_h and h and ((prev_h == "L" and h in ("L", "V", "LV", "LVT")) or
                               (prev_h in ("LV", "V") and h in ("V", "T")) or (prev_h in ("LVT", "T") and h == "T")):
            join = True
        if not join:
            count += 1
        ri_run = ri_run + 1 if ri else 0
        after_zwj = cp == 0x200D
        after_virama = unicodedata.combining(ch) == 9 or (after_virama and cp == 0x200D)
        prev, prev_h = cp, h
    return count
