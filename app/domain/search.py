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
    # Again after the accents are gone: "ǣ" and "ǿ" are "æ" and "ø" with an accent.
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS)


# Letters and marks as a database without Python folds them (PostgreSQL's casebook_fold,
# migration 0023): every letter from U+00C0 to U+024F whose fold is one other letter, then
# the combining accents, which are dropped.
_FOLDED_RANGE = range(0xC0, 0x250)
_COMBINING_MARKS = range(0x300, 0x370)


def fold_translation() -> tuple[str, str, dict[str, str]]:
    """``(from, to, longer)`` for SQL: ``translate(lower(t), from, to)`` folds each letter
    of ``from`` to the letter at the same place in ``to`` and drops the marks past its end;
    ``longer`` maps the letters that fold to two (``æ`` to ``ae``), replaced after."""
    source, target, longer = [], [], {}
    for code in _FOLDED_RANGE:
        letter = chr(code)
        folded = fold(letter)
        if folded == letter.lower() and letter.lower() == letter:
            continue
        if len(folded) == 1:
            source.append(letter)
            target.append(folded)
        elif folded and letter.lower() == letter:
            longer[letter] = folded
    marks = [chr(code) for code in _COMBINING_MARKS if unicodedata.combining(chr(code))]
    return "".join(source) + "".join(marks), "".join(target), longer
