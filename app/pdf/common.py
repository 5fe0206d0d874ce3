"""Shared pieces of every printed page: styles, escaping, images, numbered pages."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.rl_accel import sameFrag
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, TimeStamp
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import shapeStr
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph as _Paragraph
from reportlab.platypus.paragraph import textTransformFrags
from reportlab.platypus.paraparser import ParaParser, _spanAttrMap

from app.pdf import shaping
from app.pdf.bidi import (
    is_rtl_paragraph,
    line_order,
    lines_in_visual_order,
    stand_in_text,
    word_spans,
)
from app.pdf.fonts import (
    BOLD,
    FACES,
    ITALIC,
    REGULAR,
    breaks,
    covers,
    face_of,
    has_rtl,
    is_simple,
    keep_together,
    markup,
    ready,
    rtl_letter,
    runs,
    variant,
)

# Words are shaped once per text, font and size, not again for every line-breaking trial.
shaping.install()

INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#555555")
ACCENT = colors.HexColor("#1f4e79")


def esc(text: str) -> str:
    """Text as reportlab paragraph markup: escaped, line breaks kept, each script in its
    own font, and no line break inside a phone number, date or reference."""
    return markup(text)


_SHAPED_FACES = tuple(f'face="{f.name}"' for f in FACES.values() if f.shaped)
_shaping_styles: dict[int, tuple[ParagraphStyle, ParagraphStyle]] = {}


class _ScriptParser(ParaParser):
    """Markup parser for which a script's face inside <b> or a bold style stays bold.

    reportlab's <font face=...> takes bold and italic from the face's own name, so a
    Bengali name in a bold heading would print in the regular weight.
    """

    def start_font(self, attr: Any) -> None:
        found = self.getAttributes(attr, _spanAttrMap)
        if found.get("fontName") in FACES:
            current = self._stack[-1]
            found["bold"], found["italic"] = current.bold, current.italic
            self._push("font", **found)
            return
        super().start_font(attr)


def _fonts_ready(frags: Any, bullet: Any) -> None:
    """Register any font the paragraph's fragments are set in that is registered on first
    use (app.pdf.fonts.ready), before reportlab measures them."""
    for frag in (*(frags or ()), *(bullet if isinstance(bullet, list) else ())):
        name = getattr(frag, "fontName", None)
        if name is not None:
            ready(name)


class Paragraph(_Paragraph):
    """reportlab's Paragraph that shapes its words with HarfBuzz when it holds a script that
    needs it (Arabic, the Indian scripts); plain English paragraphs skip the cost."""

    style: ParagraphStyle

    def __init__(
        self, text: str | None, style: ParagraphStyle | None = None, *args: Any, **kw: Any
    ) -> None:
        if text and style is not None and "face=" in text and any(f in text for f in _SHAPED_FACES):
            cached = _shaping_styles.get(id(style))
            if cached is None or cached[0] is not style:
                if len(_shaping_styles) > 256:
                    _shaping_styles.clear()
                cached = (style, style.clone(f"{style.name}-shaped", shaping=1))
                _shaping_styles[id(style)] = cached
            style = cached[1]
        # Set by _setup when the text holds a right-to-left face: the paragraph's direction.
        self._rtl: bool | None = None
        # For a part of a paragraph split over pages: what the other parts give the
        # bidirectional algorithm (app.pdf.bidi.stand_in_text).
        self._bidi_before = self._bidi_after = ""
        super().__init__(text, style, *args, **kw)
        if self._rtl and self.style.alignment == TA_LEFT:
            # A paragraph that reads right to left starts at the right margin.
            self.style = _right_aligned(self.style)

    def _setup(self, text: Any, style: Any, bulletText: Any, frags: Any, cleaner: Any) -> None:
        if frags is not None or not text or 'face="Casebook' not in text:
            super()._setup(text, style, bulletText, frags, cleaner)
            _fonts_ready(getattr(self, "frags", None), getattr(self, "bulletText", None))
            return
        text = cleaner(text)
        parser = _ScriptParser()
        parser.caseSensitive = self.caseSensitive
        style, frags, bullet_frags = parser.parse(text, style)
        if frags is None:
            raise ValueError(f"xml parser error ({parser.errors[0]}) in paragraph {text[:30]!r}")
        textTransformFrags(frags, style)
        _one_font_per_word(frags)
        self.text = text
        self.frags = frags
        self.style = style
        self.bulletText = bullet_frags or bulletText
        self.debug = 0
        _fonts_ready(frags, self.bulletText)
        if any(rtl_letter(getattr(f, "fontName", "")) for f in frags):
            self._rtl = is_rtl_paragraph("".join(getattr(f, "text", "") for f in frags))

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        # The parts of a split paragraph are made from shaped words, which no longer say
        # which way the paragraph reads: they keep the whole paragraph's direction.
        parts = super().split(availWidth, availHeight)
        for part in parts:
            if isinstance(part, Paragraph) and part._rtl is None:
                part._rtl = self._rtl
        # The lines the split was made from, and those the first part kept.
        lines = getattr(getattr(self, "blPara", None), "lines", None)
        kept = getattr(getattr(parts[0], "blPara", None), "lines", None) if parts else None
        if self._rtl is not None and len(parts) == 2 and lines and kept:
            first, second = parts
            runs = [_line_runs(line) for line in kept]
            rest = [_line_runs(line) for line in lines[len(kept) :]]
            if all(r is not None for r in runs + rest):
                head = stand_in_text([r for r in runs if r is not None])
                tail = stand_in_text([r for r in rest if r is not None])
                first._bidi_before = self._bidi_before
                first._bidi_after = " ".join(t for t in (tail, self._bidi_after) if t)
                second._bidi_before = " ".join(t for t in (self._bidi_before, head) if t)
                second._bidi_after = self._bidi_after
        return parts

    def drawPara(self, debug: int = 0) -> None:
        """Draw the lines, each put in drawing order by the bidirectional algorithm when
        the paragraph holds right-to-left text (lines are broken in reading order)."""
        logical = getattr(self, "blPara", None)
        if self._rtl is None or logical is None or logical.kind != 1:
            super().drawPara(debug)
            return
        self.blPara = logical.clone(
            lines=_visual_lines(logical.lines, bool(self._rtl), self._bidi_before, self._bidi_after)
        )
        try:
            super().drawPara(debug)
        finally:
            self.blPara = logical


def _one_font_per_word(frags: list[Any]) -> None:
    """Where a shaped script's run meets another font inside one word (the comma after a
    bold Arabic name), the word is made one font's: HarfBuzz shapes a word with one font,
    and reportlab would print the other run's glyphs from the wrong font.

    Punctuation next to the shaped run joins it when its font has the glyph; otherwise the
    two are parted by a space (a visible gap rather than a wrong letter).
    """
    for a, b in pairwise(frags):
        text_a, text_b = getattr(a, "text", ""), getattr(b, "text", "")
        if not text_a or not text_b or breaks(text_a[-1]) or breaks(text_b[0]):
            continue
        face_a, face_b = face_of(a.fontName), face_of(b.fontName)
        if face_a == face_b or not any(f and FACES[f].shaped for f in (face_a, face_b)):
            continue
        if face_a and FACES[face_a].shaped:
            while text_b and _joins(text_b[0], face_a):
                text_a, text_b = text_a + text_b[0], text_b[1:]
        elif face_b:
            while text_a and _joins(text_a[-1], face_b):
                text_a, text_b = text_a[:-1], text_a[-1] + text_b
        if text_a and text_b and not breaks(text_a[-1]) and not breaks(text_b[0]):
            text_b = " " + text_b
        a.text, b.text = text_a, text_b


def _joins(char: str, face: str) -> bool:
    return unicodedata.category(char)[0] == "P" and covers(face, char)


_right_styles: dict[int, tuple[ParagraphStyle, ParagraphStyle]] = {}


def _right_aligned(style: ParagraphStyle) -> ParagraphStyle:
    cached = _right_styles.get(id(style))
    if cached is None or cached[0] is not style:
        if len(_right_styles) > 256:
            _right_styles.clear()
        cached = (style, style.clone(f"{style.name}-rtl", alignment=TA_RIGHT))
        _right_styles[id(style)] = cached
    return cached[1]


def _line_runs(line: Any) -> list[tuple[str, str | None]] | None:
    """A broken line's runs for the bidirectional algorithm, (text, stand-in) (None when
    it holds an inline image or anchor, which our documents' paragraphs do not)."""
    words, _ = _body_and_tail(line)
    if words is None:
        return None
    return [(w.text, rtl_letter(w.fontName)) for w in words]


def _body_and_tail(line: Any) -> tuple[list[Any] | None, list[Any]]:
    words = list(line.words)
    tail: list[Any] = []
    # A line break or other empty fragment at the end stays at the end.
    while words and (hasattr(words[-1], "cbDefn") or not getattr(words[-1], "text", "")):
        tail.insert(0, words.pop())
    if any(hasattr(w, "cbDefn") for w in words):
        return None, tail
    return words, tail


def _visual_lines(lines: list[Any], rtl: bool, before: str = "", after: str = "") -> list[Any]:
    """A paragraph's broken lines with the words of each in drawing order."""
    bodies = []
    for line in lines:
        words, tail = _body_and_tail(line)
        if words is None:
            return lines
        bodies.append((words, tail))
    ordered = lines_in_visual_order(
        [[(w.text, rtl_letter(w.fontName)) for w in words] for words, _ in bodies],
        rtl,
        before,
        after,
    )
    out = []
    for line, (words, tail), pieces in zip(lines, bodies, ordered, strict=True):
        drawn: list[Any] = []
        for index, piece in pieces:
            # Neighbours in one font and style are one fragment, as reportlab keeps them:
            # it draws a fragment that starts with a raised or lowered mark (an Arabic
            # vowel sign) only after a change of font.
            if drawn and sameFrag(drawn[-1], words[index]):
                drawn[-1].text = drawn[-1].text + piece
                continue
            if drawn and drawn[-1].fontName == words[index].fontName and _starts_offset(piece):
                piece = "\u200c" + piece  # zero width: draws nothing, and changes nothing
            frag = words[index].clone()
            frag.text = piece
            drawn.append(frag)
        out.append(line.clone(words=drawn + tail))
    return out


def _starts_offset(piece: str) -> bool:
    data = getattr(piece, "__shapeData__", None)
    return data is not None and len(data) > 0 and data[0].y_offset != 0


_WORDS = re.compile(r"\S+|\s+")


def _pieces(
    text: str,
    font: str,
    size: float,
    paragraph: tuple[str, int] | None = None,
    *,
    ordered: bool = True,
) -> list[tuple[str, str, float]]:
    """(font, text, width) pieces that draw one line of ``text`` left to right, shaped
    where needed, right-to-left stretches laid out by the bidirectional algorithm.

    ``paragraph`` is the text the line was wrapped from and where the line starts in it:
    the algorithm resolves the line's directions in that context. Measuring needs no
    order (``ordered=False``).
    """
    logical = runs(text)
    spans: list[tuple[int, int, str]] = []
    at = 0
    for face, chunk in logical:
        spans += [(at + a, at + b, face) for a, b in word_spans(chunk, FACES[face].rtl)]
        at += len(chunk)
    if ordered and has_rtl(logical):
        whole = paragraph[0] if paragraph is not None else text
        order = line_order(text, [(a, b) for a, b, _ in spans], is_rtl_paragraph(whole), paragraph)
        spans = [spans[i] for i in order]
    pieces = []
    for a, b, face in spans:
        name = variant(face, font)
        piece = text[a:b]
        if FACES[face].shaped and not piece.isspace():
            piece = shapeStr(piece, name, size)
        pieces.append((name, piece, _width(piece, name, size)))
    return pieces


def _width(chunk: str, name: str, size: float) -> float:
    data = getattr(chunk, "__shapeData__", None)
    if data is None:
        return float(stringWidth(chunk, name, size))
    return float(sum(d.x_advance for d in data) * size / 1000)


def text_width(text: str, font: str, size: float) -> float:
    """How wide ``text`` prints in ``font`` at ``size``, other scripts in their own faces."""
    if is_simple(text):
        return float(stringWidth(text, font, size))
    return sum(w for _, _, w in _pieces(text, font, size, ordered=False))


def draw_string(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    anchor: str = "left",
    paragraph: tuple[str, int] | None = None,
) -> float:
    """Draw one line of text on a canvas, each script in its own font; returns its width.

    ``anchor`` is where ``x`` is: "left", "right" or "centre". A line wrapped from a longer
    text names it in ``paragraph`` (the text, and where the line starts in it), so a
    right-to-left stretch broken over lines keeps its order.
    """
    text = keep_together(text)
    if is_simple(text):
        width = float(stringWidth(text, font, size))
        pieces = [(font, text, width)]
    else:
        if paragraph is not None:
            paragraph = (keep_together(paragraph[0]), paragraph[1])
        pieces = _pieces(text, font, size, paragraph)
        width = sum(w for _, _, w in pieces)
    if anchor == "right":
        x -= width
    elif anchor == "centre":
        x -= width / 2
    for name, chunk, w in pieces:
        canvas.setFont(name, size)
        canvas.drawString(x, y, chunk)
        x += w
    canvas.setFont(font, size)
    return width


def styles(base: float = 10.5) -> dict[str, ParagraphStyle]:
    """The paragraph styles of letters and the leaflet."""
    lead = base * 1.38
    body = ParagraphStyle(
        "body",
        fontName=REGULAR,
        bulletFontName=REGULAR,
        fontSize=base,
        leading=lead,
        textColor=INK,
    )
    return {
        "body": ParagraphStyle("body-spaced", parent=body, spaceAfter=base * 0.8),
        "plain": body,
        "bold": ParagraphStyle("bold", parent=body, fontName=BOLD),
        "subject": ParagraphStyle(
            "subject", parent=body, fontName=BOLD, spaceAfter=base, keepWithNext=1
        ),
        "quote": ParagraphStyle(
            "quote", parent=body, fontName=ITALIC, fontSize=base - 0.5, leading=lead - 0.5
        ),
        "small": ParagraphStyle(
            "small", parent=body, fontSize=base - 2.5, leading=(base - 2.5) * 1.3, textColor=MUTED
        ),
        "small-right": ParagraphStyle(
            "small-right",
            parent=body,
            fontSize=base - 2.5,
            leading=(base - 2.5) * 1.3,
            textColor=MUTED,
            alignment=TA_RIGHT,
        ),
        "school": ParagraphStyle(
            "school",
            parent=body,
            fontName=BOLD,
            fontSize=base + 3.5,
            leading=(base + 3.5) * 1.2,
            textColor=ACCENT,
            alignment=TA_RIGHT,
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=body,
            fontName=BOLD,
            fontSize=base + 7,
            leading=(base + 7) * 1.2,
            textColor=ACCENT,
            spaceAfter=base * 0.6,
            alignment=TA_LEFT,
            # A heading never ends a page: it moves on with what it heads.
            keepWithNext=1,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=BOLD,
            fontSize=base + 2,
            leading=(base + 2) * 1.25,
            textColor=ACCENT,
            spaceBefore=base * 0.9,
            spaceAfter=base * 0.4,
            keepWithNext=1,
        ),
    }


def image_reader(data: bytes | None) -> ImageReader | None:
    """An image for reportlab from stored bytes (None when there is no image)."""
    if not data:
        return None
    return ImageReader(io.BytesIO(data))


def fit_image(reader: ImageReader, max_w: float, max_h: float) -> tuple[float, float]:
    """The largest size within ``max_w`` x ``max_h`` that keeps the image's proportions."""
    width, height = reader.getSize()
    scale = min(max_w / width, max_h / height)
    return width * scale, height * scale


def numbered_canvas(
    draw_footer: Callable[[Canvas, int, int], None],
    created: datetime | date | None = None,
) -> type[Canvas]:
    """A canvas that knows the page count when it draws each page's footer ("Page X of Y"),
    and dates the document ``created`` (the date it is about, not the moment of rendering)."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            created_on(self, created)

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                draw_footer(self, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas


MM = mm


LANGUAGE = "en-GB"
# Only where a font is named (a document's text, even its title, is never touched).
_SUBSET_TAG = re.compile(rb"(?<=/BaseFont /|/FontName /)([A-Z]{6})\+([A-Za-z0-9_-]+)")


def unique_subset_names(pdf: bytes) -> bytes:
    """The PDF with a distinct six-letter tag on each embedded font subset.

    reportlab names the first subset of every font AAAAAA+; a case file that takes in a
    letter would then hold two different subsets under one name. Each tag is made from
    the font's name and a fingerprint of the document, so it differs between documents
    and stays the same for the same document. Tags are rewritten in place with tags of
    the same length, so the file's cross-reference offsets stay right.
    """
    salt = hashlib.sha256(pdf).digest()

    def tag(match: re.Match[bytes]) -> bytes:
        digest = hashlib.sha256(salt + match.group(1) + b"+" + match.group(2)).digest()
        return bytes(65 + b % 26 for b in digest[:6]) + b"+" + match.group(2)

    return _SUBSET_TAG.sub(tag, pdf)


def created_on(canvas: Canvas, when: datetime | date | None) -> None:
    """Give the document its own creation date (reportlab's invariant mode says 1 January
    2000): the date belongs to the document, so the same document gives the same bytes."""
    if when is None:
        return
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=UTC)
    elif when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    utc = when.astimezone(UTC)
    stamp = TimeStamp(invariant=1)
    stamp.t = utc.timestamp()
    stamp.lt = utc.timetuple()
    stamp.YMDhms = tuple(utc.timetuple())[:6]
    stamp.dhh = stamp.dmm = 0
    canvas._doc._timeStamp = stamp


def parse_long_date(text: str) -> date | None:
    """The date in '24 November 2026' (None when the text is not such a date)."""
    try:
        return datetime.strptime(text.strip(), "%d %B %Y").date()
    except ValueError:
        return None
