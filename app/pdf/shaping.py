"""HarfBuzz shaping of a word, done once per word, font and size in a process.

reportlab shapes every word of a paragraph that holds a shaped script each time the
paragraph is broken into lines: a quoted Arabic post is shaped again for each width tried
(a table's cell is measured, then drawn), for each page it is split over, and in every
letter of a batch. The glyphs HarfBuzz picks depend only on the text, the font and its size,
so the result is kept, and a later word with the same text gets the same glyphs in its own
fragment (its colour, link or underline stay its own).
"""

from __future__ import annotations

import threading
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedFragWord, makeShapedFragWord, shapeFragWord
from reportlab.platypus import paragraph as _paragraph

# Words of our letters and reports are few and short; this bounds a long batch of unusual
# text (about 200 bytes a word kept).
MAX_WORDS = 20_000
_UNCHANGED = object()  # HarfBuzz changed nothing: reportlab keeps the word as it was

_lock = threading.Lock()
_words: dict[tuple[Any, ...], Any] = {}


def shape_word(word: Any) -> Any:
    """``shapeFragWord`` for a word of one fragment, from the kept result when the same text
    was shaped before in the same font and size; other words are shaped as reportlab does."""
    if isinstance(word, ShapedFragWord) or len(word) != 2:
        return shapeFragWord(word)
    frag, text = word[1]
    if hasattr(frag, "cbDefn"):
        return shapeFragWord(word)
    name, size = frag.fontName, frag.fontSize
    # The font object itself is in the key: a font registered again under the same name
    # (never in the app, possible in a test) has glyphs of its own.
    key = (name, size, text, id(pdfmetrics.getFont(name)))
    kept = _words.get(key)
    if kept is None:
        shaped = shapeFragWord(word)
        if shaped is word:
            kept = _UNCHANGED
        else:
            # One fragment in, so every piece out belongs to it: only the pieces are kept.
            kept = (shaped[0], tuple(piece[1] for piece in shaped[1:]))
        with _lock:
            if len(_words) >= MAX_WORDS:
                _words.clear()
            _words[key] = kept
        return shaped
    if kept is _UNCHANGED:
        return word
    width, pieces = kept
    out = makeShapedFragWord(word)([width])
    out.extend((frag, piece) for piece in pieces)
    return out


def install() -> None:
    """Have reportlab's line breaking shape words through :func:`shape_word`."""
    _paragraph.shapeFragWord = shape_word
