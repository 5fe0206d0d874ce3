"""The embedded fonts every document uses, chosen per run of text, and a check that they print it.

Noto Sans prints Latin, Greek and Cyrillic. A name in another script is printed in the Noto
font for that script, registered with reportlab the first time a document holds that script
(reading a font costs tens of milliseconds; the Chinese, Japanese and Korean one more).
Arabic, Hebrew and the Indian scripts are shaped by HarfBuzz through reportlab
(``uharfbuzz``), so Arabic letters join and Bengali or Tamil vowel signs sit where they
belong. Right-to-left text is kept in reading order here and put in drawing order one line
at a time (app.pdf.bidi), as reportlab's own bidirectional support needs a package not on
PyPI.
"""

from __future__ import annotations

import bisect
import html
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from app.pdf.bidi import ARABIC_LETTER, HEBREW_LETTER

REGULAR = "CasebookSans"
BOLD = "CasebookSans-Bold"
ITALIC = "CasebookSans-Italic"
BOLD_ITALIC = "CasebookSans-BoldItalic"

# The Word copy names the same families, so a machine with them installed shows the same
# letters (Word substitutes a similar font for any it lacks).
WORD_FAMILIES = {
    REGULAR: "Noto Sans",
    "CasebookArabic": "Noto Naskh Arabic",
    "CasebookHebrew": "Noto Sans Hebrew",
    "CasebookBengali": "Noto Sans Bengali",
    "CasebookDevanagari": "Noto Sans Devanagari",
    "CasebookGujarati": "Noto Sans Gujarati",
    "CasebookGurmukhi": "Noto Sans Gurmukhi",
    "CasebookTamil": "Noto Sans Tamil",
    # Noto Sans CJK holds Chinese, Japanese kana and kanji, and Korean Hangul alike.
    "CasebookCJK": "Noto Sans CJK SC",
    "CasebookSymbols": "Noto Sans Symbols",
    "CasebookSymbols2": "Noto Sans Symbols2",
}


@dataclass(frozen=True)
class Face:
    """One font family we ship: its files, and how its text is laid out."""

    name: str
    regular: str
    bold: str | None = None
    italic: str | None = None
    bold_italic: str | None = None
    shaped: bool = False  # needs HarfBuzz (joining, reordered vowel signs)
    rtl: bool = False


FACES = {
    f.name: f
    for f in (
        Face(
            REGULAR,
            "NotoSans-Regular.ttf",
            "NotoSans-Bold.ttf",
            "NotoSans-Italic.ttf",
            "NotoSans-BoldItalic.ttf",
        ),
        Face(
            "CasebookArabic",
            "NotoNaskhArabic-Regular.ttf",
            "NotoNaskhArabic-Bold.ttf",
            shaped=True,
            rtl=True,
        ),
        Face(
            "CasebookHebrew",
            "NotoSansHebrew-Regular.ttf",
            "NotoSansHebrew-Bold.ttf",
            shaped=True,
            rtl=True,
        ),
        Face(
            "CasebookBengali",
            "NotoSansBengali-Regular.ttf",
            "NotoSansBengali-Bold.ttf",
            shaped=True,
        ),
        Face(
            "CasebookDevanagari",
            "NotoSansDevanagari-Regular.ttf",
            "NotoSansDevanagari-Bold.ttf",
            shaped=True,
        ),
        Face(
            "CasebookGujarati",
            "NotoSansGujarati-Regular.ttf",
            "NotoSansGujarati-Bold.ttf",
            shaped=True,
        ),
        Face(
            "CasebookGurmukhi",
            "NotoSansGurmukhi-Regular.ttf",
            "NotoSansGurmukhi-Bold.ttf",
            shaped=True,
        ),
        Face("CasebookTamil", "NotoSansTamil-Regular.ttf", "NotoSansTamil-Bold.ttf", shaped=True),
        Face("CasebookCJK", "NotoSansCJK-Subset.ttf"),
        Face("CasebookSymbols", "NotoSansSymbols-Regular.ttf"),
        Face("CasebookSymbols2", "NotoSansSymbols2-Regular.ttf"),
    )
}
SYMBOLS = ("CasebookSymbols", "CasebookSymbols2")

# Unicode blocks and the face that prints them (start, end inclusive, face).
_BLOCKS = sorted(
    [
        (0x0590, 0x05FF, "CasebookHebrew"),
        (0xFB1D, 0xFB4F, "CasebookHebrew"),
        (0x0600, 0x06FF, "CasebookArabic"),
        (0x0750, 0x077F, "CasebookArabic"),
        (0x08A0, 0x08FF, "CasebookArabic"),
        (0xFB50, 0xFDFF, "CasebookArabic"),
        (0xFE70, 0xFEFF, "CasebookArabic"),
        (0x0900, 0x097F, "CasebookDevanagari"),
        (0xA8E0, 0xA8FF, "CasebookDevanagari"),
        (0x0980, 0x09FF, "CasebookBengali"),
        (0x0A00, 0x0A7F, "CasebookGurmukhi"),
        (0x0A80, 0x0AFF, "CasebookGujarati"),
        (0x0B80, 0x0BFF, "CasebookTamil"),
        # Chinese, Japanese and Korean: one subset of Noto Sans CJK (scripts/build_fonts.py).
        (0x1100, 0x11FF, "CasebookCJK"),
        (0x2E80, 0x2FDF, "CasebookCJK"),
        (0x3000, 0x30FF, "CasebookCJK"),
        (0x3100, 0x31FF, "CasebookCJK"),
        (0x3400, 0x4DBF, "CasebookCJK"),
        (0x4E00, 0x9FFF, "CasebookCJK"),
        (0xA960, 0xA97F, "CasebookCJK"),
        (0xAC00, 0xD7FF, "CasebookCJK"),
        (0xF900, 0xFAFF, "CasebookCJK"),
        (0xFF00, 0xFFEF, "CasebookCJK"),
        (0x20000, 0x2FA1F, "CasebookCJK"),
    ]
)
_STARTS = [b[0] for b in _BLOCKS]
# The byte-order mark (U+FEFF) sits in an Arabic block but is an invisible format character.


def _escape(text: str) -> str:
    """&, < and > as paragraph markup needs them: what xml.sax.saxutils.escape does, without
    importing xml.sax and urllib.request into every letter's process for it."""
    return html.escape(text, quote=False)


_lock = threading.Lock()
_fonts_dir: Path | None = None
_coverage: dict[str, frozenset[int]] = {}
# Fonts registered the first time a paragraph names one (name: file): a face's bold italic,
# which a paragraph names only for <b> inside an italic style or <i> inside a bold one. No
# letter does, and reading the file cost every letter's process about 5 ms.
_on_first_use: dict[str, Path] = {}


def register_fonts(fonts_dir: Path) -> None:
    """Register the Latin faces once per process; other scripts' faces load when first needed."""
    global _fonts_dir
    with _lock:
        _fonts_dir = fonts_dir
    _load(REGULAR)


def _load(face_name: str) -> frozenset[int]:
    """The characters a face prints, registering its files with reportlab on first use."""
    covered = _coverage.get(face_name)
    if covered is not None:
        return covered
    with _lock:
        covered = _coverage.get(face_name)
        if covered is not None:
            return covered
        if _fonts_dir is None:
            raise RuntimeError("register_fonts() must run before laying out text")
        face = FACES[face_name]
        names = {
            face.name: face.regular,
            f"{face.name}-Bold": face.bold,
            f"{face.name}-Italic": face.italic,
            f"{face.name}-BoldItalic": face.bold_italic,
        }
        registered: dict[str, str] = {}
        chars: frozenset[int] = frozenset()
        for name, filename in names.items():
            if filename is None:
                continue
            if name == f"{face.name}-BoldItalic":
                _on_first_use[name] = _fonts_dir / filename
                registered[name] = name
                continue
            # Shaping is asked for per paragraph, only where a shaped script is present.
            font = TTFont(name, str(_fonts_dir / filename), shapable=True)
            pdfmetrics.registerFont(font)
            registered[name] = name
            if name == face.name:
                chars = frozenset(font.face.charToGlyph)
        regular = face.name
        bold = registered.get(f"{regular}-Bold", regular)
        italic = registered.get(f"{regular}-Italic", regular)
        bold_italic = registered.get(f"{regular}-BoldItalic", bold)
        # Paragraph markup (<b>, <i>) finds the right face through these mappings.
        addMapping(regular, 0, 0, regular)
        addMapping(regular, 1, 0, bold)
        addMapping(regular, 0, 1, italic)
        addMapping(regular, 1, 1, bold_italic)
        _coverage[face_name] = chars
        return chars


def ready(font_name: str) -> None:
    """Register ``font_name`` now if it is one registered on first use (a bold italic) and
    not registered yet; called for the fonts a paragraph's text is set in, before it is
    measured or drawn."""
    if font_name not in _on_first_use:
        return
    with _lock:
        # Removed only once registered: another thread asking meanwhile waits for the lock.
        path = _on_first_use.get(font_name)
        if path is not None:
            pdfmetrics.registerFont(TTFont(font_name, str(path), shapable=True))
            del _on_first_use[font_name]


def variant(face: str, base_font: str) -> str:
    """The registered font of ``face`` in the weight and slant of ``base_font``."""
    if face == REGULAR:
        return base_font
    bold = base_font in (BOLD, BOLD_ITALIC)
    italic = base_font in (ITALIC, BOLD_ITALIC)
    from reportlab.lib.fonts import tt2ps

    return str(tt2ps(face, int(bold), int(italic)))


def _needs_glyph(char: str) -> bool:
    # Spaces, line breaks and invisible format characters need no glyph.
    return not (char.isspace() or unicodedata.category(char) in ("Cc", "Cf"))


def _block_face(code: int) -> str | None:
    i = bisect.bisect_right(_STARTS, code) - 1
    if i >= 0 and _BLOCKS[i][0] <= code <= _BLOCKS[i][1]:
        return _BLOCKS[i][2]
    return None


def face_for(char: str, previous: str | None = None) -> str | None:
    """The face that prints ``char`` (None when no shipped font can)."""
    code = ord(char)
    face = _block_face(code) if code > 0x2E7F or 0x058F < code < 0x0C00 else None
    if face is not None and code != 0xFEFF:
        return face if code in _load(face) or not _needs_glyph(char) else None
    # Punctuation, digits, marks and joiners stay with the script they sit in, so a shaped
    # word is one run in one font (HarfBuzz shapes a word with one font).
    if previous is not None and previous != REGULAR and code in _load(previous):
        category = unicodedata.category(char)
        if category[0] in "PNMZ" or category == "Cf":
            return previous
    if code in _load(REGULAR) or not _needs_glyph(char):
        return REGULAR
    for symbols in SYMBOLS:
        if code in _load(symbols):
            return symbols
    return None


def is_simple(text: str) -> bool:
    """True when Noto Sans prints every character (no other face, no shaping)."""
    if text.isascii():
        return True
    covered = _load(REGULAR)
    return all(ord(c) in covered or not _needs_glyph(c) for c in text)


def runs(text: str) -> list[tuple[str, str]]:
    """``text`` cut into (face, text) runs in reading order; unprintable characters in
    Noto Sans (their .notdef box), which :func:`missing_characters` reports first."""
    if is_simple(text):
        return [(REGULAR, text)] if text else []
    found: list[tuple[str, str]] = []
    previous: str | None = None
    for char in text:
        face = face_for(char, previous) or REGULAR
        if found and found[-1][0] == face:
            found[-1] = (face, found[-1][1] + char)
        else:
            found.append((face, char))
        previous = face
    return found


def breaks(char: str) -> bool:
    """True for a space where reportlab ends a word (a no-break space joins the words
    either side of it into one; a zero-width space parts them)."""
    return (char.isspace() or char == "\u200b") and char != "\u00a0"


def face_of(font_name: str) -> str | None:
    """The face a registered font belongs to ("CasebookArabic-Bold": "CasebookArabic")."""
    face = font_name.split("-", 1)[0]
    return face if face in FACES else None


def covers(face: str, char: str) -> bool:
    """True when ``face`` has a glyph for ``char``."""
    return ord(char) in _load(face)


def rtl_letter(font_name: str) -> str | None:
    """The letter that stands for a right-to-left face's words in the bidirectional
    algorithm (None for a left-to-right face); ``font_name`` may name a bold or italic."""
    return _RTL_LETTERS.get(font_name.split("-", 1)[0])


_RTL_LETTERS = {"CasebookArabic": ARABIC_LETTER, "CasebookHebrew": HEBREW_LETTER}


def has_rtl(found: Iterable[tuple[str, str]]) -> bool:
    """True when any of the (face, text) runs is in a right-to-left face."""
    return any(FACES[face].rtl for face, _ in found)


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# Spaces that must not break a line: inside phone numbers ("01744 000 000"), between a
# reference's label and the reference, and inside a date ("24 November 2026").
_KEEP = re.compile(
    rf"(?<=\d) (?=\d)|(?<=\+44) |(?<=\d) (?=(?:{_MONTHS})\b)"
    r"|(?<=[Rr]eference) (?=[A-Z]{2,}-)|(?<=Telephone) (?=[\d+(])"
)
_KEEP_MONTH = re.compile(rf"\b({_MONTHS}) (?=\d)")


def keep_together(text: str) -> str:
    """``text`` with non-breaking spaces where a line break would split a number or a date."""
    if " " not in text:
        return text
    return _KEEP_MONTH.sub("\\1\u00a0", _KEEP.sub("\u00a0", text))


@lru_cache(maxsize=4096)
def markup(text: str) -> str:
    """Plain text as reportlab paragraph markup: escaped, each script in its own face.

    Kept for the texts met again: every letter repeats its letterhead, footer, the Code's
    passages and most of its wording (a hundred letters of a batch, the same words)."""
    text = keep_together(text)
    if is_simple(text):
        return _escape(text).replace("\n", "<br/>")
    lines = []
    for line in text.split("\n"):
        # Runs stay in reading order: a paragraph is broken into lines first, and each line
        # is put in drawing order by the bidirectional algorithm (app.pdf.bidi).
        found = runs(line)
        parts = []
        for index, (face, chunk) in enumerate(found):
            if face == REGULAR:
                parts.append(_escape(chunk))
                continue
            if FACES[face].shaped:
                # HarfBuzz shapes one word with one font: where the face changes inside a
                # word (brackets round an Arabic name), the word is split with a space
                # rather than shaped wrongly.
                if index and not breaks(chunk[0]) and not breaks(found[index - 1][1][-1]):
                    chunk = " " + chunk
                after = found[index + 1][1] if index + 1 < len(found) else " "
                if not breaks(chunk[-1]) and not breaks(after[0]):
                    chunk += " "
            parts.append(f'<font face="{face}">{_escape(chunk)}</font>')
        lines.append("".join(parts))
    return "<br/>".join(lines)


def needs_shaping(text: str) -> bool:
    """True when the text holds a script HarfBuzz must shape."""
    if is_simple(text):
        return False
    return any(FACES[face].shaped for face, _ in runs(text))


def missing_characters(texts: Iterable[str], font: str = REGULAR) -> list[str]:
    """Characters in ``texts`` that no shipped font can draw, in order of first appearance."""
    del font  # every face is tried; kept for callers that name the main face
    seen: dict[str, None] = {}
    for text in texts:
        if is_simple(text):
            continue
        previous: str | None = None
        for char in text:
            face = face_for(char, previous)
            if face is None and char not in seen:
                seen[char] = None
            previous = face
    return list(seen)


def character_name(char: str) -> str:
    """'‘ꙮ’ (Cyrillic Letter Multiocular O)' for a sentence a person reads."""
    return f"‘{char}’ ({unicodedata.name(char, f'U+{ord(char):04X}').title()})"


def describe_missing(chars: list[str]) -> str:
    """One sentence naming characters that will not print, for a warning before printing."""
    shown = ", ".join(character_name(c) for c in chars[:5])
    more = f" and {len(chars) - 5} more" if len(chars) > 5 else ""
    return (
        f"The printed fonts have no shape for {shown}{more}; these would print as empty boxes. "
        "Check the spelling of names and addresses before printing."
    )


def fonts_dir() -> Path:
    """The folder of the shipped font files (for the Word copy, which embeds them)."""
    if _fonts_dir is None:
        raise RuntimeError("register_fonts() must run before fonts are read")
    return _fonts_dir
