"""The embedded TrueType fonts every document uses, and a check that they can print a text."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "CasebookSans"
BOLD = "CasebookSans-Bold"
ITALIC = "CasebookSans-Oblique"
BOLD_ITALIC = "CasebookSans-BoldOblique"

_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf",
}

_lock = threading.Lock()
_coverage: dict[str, frozenset[int]] = {}


def register_fonts(fonts_dir: Path) -> None:
    """Register the shipped fonts with reportlab once per process (reading them is slow)."""
    with _lock:
        if _coverage:
            return
        for name, filename in _FILES.items():
            font = TTFont(name, str(fonts_dir / filename))
            pdfmetrics.registerFont(font)
            _coverage[name] = frozenset(font.face.charToGlyph)
        # Paragraph markup (<b>, <i>) finds the right face through these mappings.
        addMapping(REGULAR, 0, 0, REGULAR)
        addMapping(REGULAR, 1, 0, BOLD)
        addMapping(REGULAR, 0, 1, ITALIC)
        addMapping(REGULAR, 1, 1, BOLD_ITALIC)


def _printable(char: str) -> bool:
    # Spaces, line breaks and invisible format characters need no glyph.
    return not (char.isspace() or unicodedata.category(char) in ("Cc", "Cf"))


def missing_characters(texts: Iterable[str], font: str = REGULAR) -> list[str]:
    """Characters in ``texts`` that the font cannot draw, in order of first appearance."""
    covered = _coverage.get(font)
    if covered is None:
        raise RuntimeError("register_fonts() must run before checking characters")
    seen: dict[str, None] = {}
    for text in texts:
        for char in text:
            if char not in seen and _printable(char) and ord(char) not in covered:
                seen[char] = None
    return list(seen)


def describe_missing(chars: list[str]) -> str:
    """One sentence naming characters that will not print, for a warning before printing."""
    shown = ", ".join(
        f"'{c}' ({unicodedata.name(c, f'U+{ord(c):04X}').title()})" for c in chars[:5]
    )
    more = f" and {len(chars) - 5} more" if len(chars) > 5 else ""
    return (
        f"The printed font has no shape for {shown}{more}; these would print as empty boxes. "
        "Check the spelling of names and addresses before printing."
    )
