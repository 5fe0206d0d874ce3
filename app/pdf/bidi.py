"""Right-to-left text laid out line by line with the Unicode bidirectional algorithm.

A paragraph is broken into lines in reading (logical) order; only then is each line put
in the order it is drawn, so a right-to-left stretch that wraps keeps its first words on
the first line, at the right. The embedding levels are resolved over the whole paragraph
by python-bidi (the Rust ``unicode-bidi`` crate, the implementation Servo uses); this module
applies rules L1 and L2 of the algorithm line by line to the pieces HarfBuzz shapes, since
HarfBuzz already draws the letters of a right-to-left word right to left.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

# Stand-ins for a word HarfBuzz has already shaped right to left: its characters are
# glyphs in drawing order, so the word takes part in the algorithm as one letter.
ARABIC_LETTER = "\u0627"  # class AL: digits after it are Arabic numbers (rule W2)
HEBREW_LETTER = "\u05d0"  # class R

_LEVEL = re.compile(r"Level\(\s*(\d+),?\s*\)")
_STRONG = frozenset(("L", "R", "AL", "EN", "AN"))
_RTL = frozenset(("R", "AL"))
_PIECE = re.compile(r"\s+|\S+")
# Punctuation that ends a sentence or a clause: after a right-to-left word it goes to
# whichever side the algorithm says, not with the word HarfBuzz shaped it with.
TRAILING = frozenset(",.:;!?\u060c\u061b\u061f\u06d4")


def levels(text: str, rtl: bool) -> list[int]:
    """The resolved embedding level of each character of a paragraph (even: left to right).

    ``rtl`` is the paragraph's direction. python-bidi returns the levels it resolved when
    asked for its debug record (one per byte of UTF-8), which is read here. Rule L1 (the
    spaces that end a line) is applied line by line by the callers.
    """
    return list(_resolved_levels(str(text), rtl)) if text else []


# A paragraph is resolved again for each part of it drawn and in every letter of a batch
# that quotes the same post; the levels depend on the text and direction alone.
@lru_cache(maxsize=512)
def _resolved_levels(text: str, rtl: bool) -> tuple[int, ...]:
    from bidi import get_display  # only documents with right-to-left text need it

    record = str(get_display(text, base_dir="R" if rtl else "L", debug=True))
    start, end = record.find("levels:"), record.find("paragraphs:")
    per_byte = [int(n) for n in _LEVEL.findall(record, start, end)] if 0 <= start < end else []
    if len(per_byte) != len(text.encode("utf-8")):
        raise RuntimeError("python-bidi gave no embedding levels for a paragraph of text")
    found = []
    offset = 0
    for char in text:
        found.append(per_byte[offset])
        offset += len(char.encode("utf-8"))
    return tuple(found)


def is_rtl_paragraph(text: str) -> bool:
    """True when a paragraph reads right to left: it starts with a right-to-left letter
    (rule P2) and most of its letters are right-to-left.

    The documents are English, so a paragraph that merely starts with an Arabic name, or
    an English sentence that quotes a long Arabic post, stays left to right (higher-level
    protocol HL1 lets the application choose the paragraph's direction).
    """
    rtl = ltr = 0
    first = None
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in _RTL:
            rtl += 1
        elif kind == "L":
            ltr += 1
        else:
            continue
        if first is None:
            first = kind
    return first in _RTL and rtl > ltr


def _piece_level(piece: str, char_levels: Sequence[int], default: int) -> int:
    """A piece's level: that of its first letter or digit, else of its first character."""
    for char, level in zip(piece, char_levels, strict=False):
        if unicodedata.bidirectional(char) in _STRONG:
            return level
    return char_levels[0] if char_levels else default


def visual_order(piece_levels: Sequence[int]) -> list[int]:
    """Rule L2: the indices of one line's pieces in the order they are drawn, left to right."""
    order = list(range(len(piece_levels)))
    if not piece_levels:
        return order
    highest = max(piece_levels)
    lowest_odd = min((lv for lv in piece_levels if lv % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if piece_levels[order[i]] < level:
                i += 1
                continue
            j = i
            while j < len(order) and piece_levels[order[j]] >= level:
                j += 1
            order[i:j] = reversed(order[i:j])
            i = j
    return order


def _line_order(pieces: Sequence[str], piece_levels: list[int], rtl: bool) -> list[int]:
    # Rule L1: spaces at the end of a line take the paragraph's level.
    index = len(pieces) - 1
    while index >= 0 and pieces[index].isspace():
        piece_levels[index] = 1 if rtl else 0
        index -= 1
    return visual_order(piece_levels)


def _shaped_rtl(text: str) -> bool:
    # A word of a quoted post is met once per line it could end and per letter drawn.
    return _has_rtl_glyphs(str(text))


@lru_cache(maxsize=8192)
def _has_rtl_glyphs(text: str) -> bool:
    # Glyphs of a right-to-left face: letters (R, AL) or contextual forms, which have no
    # character of their own and are named by a private-use code.
    return any(
        unicodedata.bidirectional(c) in _RTL or unicodedata.category(c) == "Co" for c in text
    )


def _cut(runs: Sequence[tuple[str, str | None]]) -> list[tuple[int, str, str]]:
    """A line's runs as (run index, piece, stand-in) words and spaces in logical order."""
    return [(index, runs[index][0][a:b], letter) for index, a, b, letter in _cut_at(runs)]


def _cut_at(runs: Sequence[tuple[str, str | None]]) -> list[tuple[int, int, int, str]]:
    """Where ``_cut``'s pieces are: (run index, start, end, stand-in)."""
    pieces: list[tuple[int, int, int, str]] = []
    for index, (text, letter) in enumerate(runs):
        for match in _PIECE.finditer(text):
            start, end = match.start(), match.end()
            piece = text[start:end]
            if letter is None or piece.isspace() or not _shaped_rtl(piece):
                pieces.append((index, start, end, str(piece)))
                continue
            # A right-to-left word's glyphs run right to left: punctuation that ended it
            # is drawn first (leftmost). It is cut off and given its own place.
            cut = 0
            while cut < len(piece) - 1 and piece[cut] in TRAILING:
                cut += 1
            pieces.append((index, start + cut, end, letter))
            pieces += [
                (index, start + k, start + k + 1, str(piece[k])) for k in range(cut - 1, -1, -1)
            ]
    return pieces


def stand_in_text(lines: Sequence[Sequence[tuple[str, str | None]]]) -> str:
    """What ``lines`` (as for :func:`lines_in_visual_order`) give the algorithm: the
    context a part of a paragraph split over two pages passes to the other part."""
    return " ".join("".join(s for *_, s in _cut_at(line)) for line in lines)


def lines_in_visual_order(
    lines: Sequence[Sequence[tuple[str, str | None]]],
    rtl: bool,
    before: str = "",
    after: str = "",
) -> list[list[tuple[int, str]]]:
    """The lines of one paragraph, each cut into words and spaces in drawing order.

    Each line is its runs, (text, stand-in), in logical order: the text as drawn (a word
    HarfBuzz shaped right to left holds its glyphs right to left already) and the stand-in
    is the letter that represents a right-to-left face's words (None for other faces).
    Levels are resolved over the whole paragraph; each line is then reordered on its own.
    ``before`` and ``after`` are the stand-in text of the rest of a paragraph split over
    pages (:func:`stand_in_text`). Returns, per line, (run index, piece of its text) pairs
    left to right; slicing keeps reportlab's shaping data with each piece.
    """
    # The order depends on the characters alone: worked out once for a paragraph met
    # again (the same quoted post in every letter), then cut from this paragraph's runs.
    key = (tuple(tuple((str(text), letter) for text, letter in line) for line in lines), rtl)
    order = _visual_order_of(key, before, after)
    return [
        [(index, line[index][0][a:b]) for index, a, b in places]
        for line, places in zip(lines, order, strict=True)
    ]


@lru_cache(maxsize=2048)
def _visual_order_of(
    key: tuple[tuple[tuple[tuple[str, str | None], ...], ...], bool], before: str, after: str
) -> tuple[tuple[tuple[int, int, int], ...], ...]:
    lines, rtl = key
    cut = [_cut_at(line) for line in lines]
    # The lines were one paragraph, with a space where each was broken.
    text = " ".join("".join(s for *_, s in line) for line in cut)
    head = before + " " if before else ""
    char_levels = levels(head + text + (" " + after if after else ""), rtl)[len(head) :]
    out = []
    offset = 0
    for runs, line in zip(lines, cut, strict=True):
        found = []
        for *_, stand_in in line:
            found.append(
                _piece_level(stand_in, char_levels[offset : offset + len(stand_in)], int(rtl))
            )
            offset += len(stand_in)
        offset += 1
        order = _line_order([runs[i][0][a:b] for i, a, b, _ in line], found, rtl)
        out.append(tuple((line[i][0], line[i][1], line[i][2]) for i in order))
    return tuple(out)


def word_spans(text: str, rtl_face: bool) -> list[tuple[int, int]]:
    """(start, end) of the words and spaces of a run of plain text; in a right-to-left
    face, a word's closing punctuation is a piece of its own."""
    spans: list[tuple[int, int]] = []
    for match in _PIECE.finditer(text):
        start, end = match.start(), match.end()
        if rtl_face and not text[start].isspace():
            tail = end
            while tail > start + 1 and text[tail - 1] in TRAILING:
                tail -= 1
            spans.append((start, tail))
            spans += [(k, k + 1) for k in range(tail, end)]
            continue
        spans.append((start, end))
    return spans


def line_order(
    text: str, pieces: Sequence[tuple[int, int]], rtl: bool, paragraph: tuple[str, int] | None
) -> list[int]:
    """The drawing order of one line's ``pieces`` (spans of ``text``), levels resolved over
    ``paragraph`` (its text, and where this line starts in it) when the line is part of one."""
    whole, start = paragraph if paragraph is not None else (text, 0)
    char_levels = levels(whole, rtl)[start : start + len(text)]
    found = [_piece_level(text[a:b], char_levels[a:b], int(rtl)) for a, b in pieces]
    return _line_order([text[a:b] for a, b in pieces], found, rtl)
