"""Folding text for search: case and accents do not matter ("zoe" finds Zoë)."""

from __future__ import annotations

import unicodedata

# Letters that Unicode does not split into a base letter and an accent.
_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h"}
)


def fold(text: str) -> str:
    """``text`` in lower case without accents, as the case list's search compares it."""
    folded = text.casefold().translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
