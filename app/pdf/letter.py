"""A4 letters laid out for a DL window envelope, with the Code's words quoted verbatim.

The recipient's address is laid out into the part of a DL envelope's window that shows
it wherever the folded letter settles in the envelope (see ``ADDRESS_AREA``): long lines
wrap, then the block shrinks to a floor, and an address that still does not fit is
refused before anything is issued.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.domain.errors import ValidationError
from app.pdf.common import (
    ACCENT,
    LANGUAGE,
    MUTED,
    Paragraph,
    draw_string,
    esc,
    fit_image,
    image_reader,
    numbered_canvas,
    parse_long_date,
    styles,
    text_width,
    unique_subset_names,
)
from app.pdf.documents import Branding, LetterDocument
from app.pdf.fonts import BOLD, REGULAR

PAGE_W, PAGE_H = A4
MARGIN_X = 22 * mm

# A DL envelope (220 x 110 mm) with the usual window: 20 mm from the left edge, 15 mm
# from the bottom, 90 x 45 mm. The letter, folded in three (210 x 99 mm), can slide up
# to 10 mm sideways and 11 mm up or down inside it. Measured from the letter's top-left
# corner the window then shows x 20-110 mm (letter to the left) or 10-100 mm (to the
# right) and y 50-95 mm (letter at the top) or 39-84 mm (settled at the bottom); the
# address goes where every position shows it, 1 mm clear of the window's edges.
ENVELOPE_W, ENVELOPE_H = 220 * mm, 110 * mm
FOLDED_W, FOLDED_H = 210 * mm, 99 * mm
ENVELOPE_WINDOW_LEFT = 20 * mm
ENVELOPE_WINDOW_BOTTOM = 15 * mm
ENVELOPE_WINDOW_W, ENVELOPE_WINDOW_H = 90 * mm, 45 * mm
_SLACK_X = ENVELOPE_W - FOLDED_W
_SLACK_Y = ENVELOPE_H - FOLDED_H
_CLEAR = 1 * mm
_WINDOW_TOP = ENVELOPE_H - ENVELOPE_WINDOW_BOTTOM - ENVELOPE_WINDOW_H


@dataclass(frozen=True)
class Area:
    """A rectangle on the page in millimetres-from-top-left terms (points)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


ADDRESS_AREA = Area(
    left=ENVELOPE_WINDOW_LEFT + _CLEAR,
    top=_WINDOW_TOP + _CLEAR,
    right=ENVELOPE_WINDOW_LEFT + ENVELOPE_WINDOW_W - _SLACK_X - _CLEAR,
    bottom=_WINDOW_TOP + ENVELOPE_WINDOW_H - _SLACK_Y - _CLEAR,
)
# Kept for the Word copy and older callers: where the address block starts.
WINDOW_LEFT = ENVELOPE_WINDOW_LEFT
WINDOW_TOP = _WINDOW_TOP
WINDOW_WIDTH = ENVELOPE_WINDOW_W
WINDOW_HEIGHT = ENVELOPE_WINDOW_H
ADDRESS_LEFT = ADDRESS_AREA.left
ADDRESS_TOP = ADDRESS_AREA.top
# The date and reference column starts this far from the left: clear of the window.
DATE_COLUMN_LEFT = ENVELOPE_WINDOW_LEFT + ENVELOPE_WINDOW_W + 4 * mm
BODY_TOP_FIRST = 102 * mm
BODY_TOP_LATER = 24 * mm
BODY_BOTTOM = 24 * mm
FOOTER_Y = 12 * mm

# Sizes the address is tried at, largest first; the last is the floor.
ADDRESS_SIZES = (10.5, 10.0, 9.5, 9.0, 8.5, 8.0)
RETURN_SIZES = (6.5, 6.0, 5.5)
CONFIDENTIAL = "PRIVATE AND CONFIDENTIAL"
_CONFIDENTIAL_SIZE = 7.5


@dataclass(frozen=True)
class AddressLine:
    """One printed line of the address block."""

    text: str
    font: str
    size: float
    baseline: float  # points down from the top of the page
    # The text this line was wrapped from and where the line starts in it: the
    # bidirectional algorithm lays out a wrapped right-to-left stretch in that context.
    paragraph: tuple[str, int] | None = None


@dataclass(frozen=True)
class AddressLayout:
    """The address block placed in the window, or why it cannot be."""

    lines: tuple[AddressLine, ...]
    fits: bool
    needed: int  # address lines needed at the smallest size
    room: int  # address lines the window holds at the smallest size

    def refusal(self, name: str) -> str:
        """One sentence for the person issuing the letter."""
        return (
            f"The address of {name} needs {self.needed} lines, more than the {self.room} "
            "an envelope window shows; shorten it in their details (for example, leave out "
            "the county)."
        )


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width``: at spaces or after hyphens (as in a
    double-barrelled name), and inside a word only when one word is wider than the window."""
    pieces = re.findall(r"[^\s-]*-|\S+", text)
    lines: list[str] = []
    current = ""
    for piece in pieces:
        joiner = "" if not current or current.endswith("-") else " "
        trial = current + joiner + piece
        if text_width(trial, font, size) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
        current = piece
        while text_width(current, font, size) > width:
            # The longest start of the word that fits (at least one character).
            low, high = 1, len(current) - 1
            while low < high:
                middle = (low + high + 1) // 2
                if text_width(current[:middle], font, size) <= width:
                    low = middle
                else:
                    high = middle - 1
            lines.append(current[:low])
            current = current[low:]
    lines.append(current)
    return lines


def _context(text: str, parts: list[str], index: int) -> tuple[str, int] | None:
    """(text, where line ``index`` of ``parts`` starts in it) for a wrapped text."""
    if len(parts) < 2:
        return None
    start = 0
    for number, line in enumerate(parts):
        found = text.find(line, start)
        if found < 0:
            return None
        if number == index:
            return text, found
        start = found + len(line)
    return None


def return_line(branding: Branding) -> tuple[str, float]:
    """The school's one-line return address for the top of the window, and its size."""
    profile = branding.profile
    parts = [profile.name, *profile.address_lines()]
    candidates = [", ".join(p for p in parts if p)]
    if len(parts) > 2:
        candidates.append(", ".join(p for p in (parts[0], parts[-1]) if p))
    width = ADDRESS_AREA.width
    for text in candidates:
        for size in RETURN_SIZES:
            if text_width(text, REGULAR, size) <= width:
                return text, size
    text = candidates[-1]
    size = RETURN_SIZES[-1]
    return _wrap(text, REGULAR, size, width)[0], size


def layout_address(name: str, address: tuple[str, ...], branding: Branding) -> AddressLayout:
    """Lay the recipient's name and address out inside ``ADDRESS_AREA``.

    The block is tried at each of ``ADDRESS_SIZES``; lines too wide for the window wrap.
    Above it go the school's return address and "Private and confidential". When even the
    floor size needs more lines than the window holds, the layout says so (``fits``) and
    holds only the lines that fit.
    """
    area = ADDRESS_AREA
    lines: list[AddressLine] = []
    back, back_size = return_line(branding)
    y = area.top + back_size
    lines.append(AddressLine(back, REGULAR, back_size, y))
    y += 1.6 * mm + _CONFIDENTIAL_SIZE
    lines.append(AddressLine(CONFIDENTIAL, BOLD, _CONFIDENTIAL_SIZE, y))
    y += 1.2 * mm
    items = [(name, BOLD), *((line, REGULAR) for line in address if line.strip())]
    room_height = area.bottom - y
    wrapped: list[tuple[str, str, tuple[str, int] | None]] = []
    size = ADDRESS_SIZES[-1]
    for size in ADDRESS_SIZES:
        leading = size * 1.15
        wrapped = [
            (part, font, _context(text, parts, index))
            for text, font in items
            for parts in [_wrap(text, font, size, area.width)]
            for index, part in enumerate(parts)
        ]
        # The last line needs only its ascent and descent, not a whole leading.
        if (len(wrapped) - 1) * leading + size <= room_height:
            break
    leading = size * 1.15
    room = int((room_height - size) // leading) + 1
    fits = len(wrapped) <= room
    for index, (text, font, context) in enumerate(wrapped[:room]):
        lines.append(AddressLine(text, font, size, y + size * 0.8 + index * leading, context))
    return AddressLayout(tuple(lines), fits, len(wrapped), room)


def check_address(name: str, address: tuple[str, ...], branding: Branding) -> None:
    """Refuse (ValidationError) an address the envelope window cannot show whole."""
    layout = layout_address(name, address, branding)
    if not layout.fits:
        raise ValidationError(layout.refusal(name), field="address")


def draw_letterhead(canvas: Canvas, branding: Branding, top: float = 14 * mm) -> float:
    """Logo on the left, the school's name and contact details on the right; returns the bottom."""
    st = styles()
    profile = branding.profile
    logo = image_reader(branding.logo)
    logo_bottom = PAGE_H
    if logo is not None:
        w, h = fit_image(logo, 45 * mm, 22 * mm)
        logo_bottom = PAGE_H - top - h
        canvas.drawImage(logo, MARGIN_X, logo_bottom, w, h, mask="auto")
    width = PAGE_W - 2 * MARGIN_X - (50 * mm if logo is not None else 0)
    x = PAGE_W - MARGIN_X - width
    y = PAGE_H - top
    name = Paragraph(esc(profile.name), st["school"])
    _, h = name.wrap(width, 40 * mm)
    name.drawOn(canvas, x, y - h)
    y -= h + 1 * mm
    details = list(profile.address_lines())
    contact = []
    if profile.telephone:
        contact.append(f"Telephone {profile.telephone}")
    if profile.email:
        contact.append(profile.email)
    if profile.website:
        contact.append(profile.website)
    lines = [", ".join(details)] if details else []
    if contact:
        lines.append("  ·  ".join(contact))
    for line in lines:
        para = Paragraph(esc(line), st["small-right"])
        _, h = para.wrap(width, 20 * mm)
        para.drawOn(canvas, x, y - h)
        y -= h
    return min(y, logo_bottom)


def _first_page(doc: LetterDocument) -> object:
    def draw(canvas: Canvas, _template: BaseDocTemplate) -> None:
        canvas.saveState()
        bottom = draw_letterhead(canvas, doc.branding)
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(0.6)
        rule_y = max(bottom - 3 * mm, PAGE_H - 42 * mm)
        canvas.line(MARGIN_X, rule_y, PAGE_W - MARGIN_X, rule_y)
        # Recipient block inside the envelope window.
        layout = layout_address(doc.recipient_name, doc.recipient_address, doc.branding)
        for index, line in enumerate(layout.lines):
            if index < 2:
                canvas.setFillColor(MUTED)
            else:
                canvas.setFillColorRGB(0, 0, 0)
            # Each run in its own script's font, shaped where the script needs it.
            draw_string(
                canvas,
                ADDRESS_AREA.left,
                PAGE_H - line.baseline,
                line.text,
                line.font,
                line.size,
                paragraph=line.paragraph,
            )
        # Date and reference on the right, clear of the window whatever the address.
        right = PAGE_W - MARGIN_X
        y = PAGE_H - ADDRESS_TOP - 8.5
        for label, value in (("Date", doc.date_text), ("Our reference", doc.reference)):
            canvas.setFillColor(MUTED)
            draw_string(canvas, right, y, label, REGULAR, 8.5, anchor="right")
            y -= 12.5
            canvas.setFillColorRGB(0, 0, 0)
            draw_string(canvas, right, y, value, BOLD, 10.5, anchor="right")
            y -= 18
        canvas.restoreState()

    return draw


def _later_page(doc: LetterDocument) -> object:
    def draw(canvas: Canvas, _template: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFillColor(MUTED)
        top = PAGE_H - 14 * mm
        line = f"{doc.recipient_name}  ·  {doc.date_text}  ·  continued"
        draw_string(canvas, MARGIN_X, top, line, REGULAR, 8)
        draw_string(canvas, PAGE_W - MARGIN_X, top, doc.branding.profile.name, REGULAR, 8, "right")
        canvas.restoreState()

    return draw


def _footer(doc: LetterDocument):  # type: ignore[no-untyped-def]
    def draw(canvas: Canvas, number: int, total: int) -> None:
        canvas.saveState()
        canvas.setFillColor(MUTED)
        line = f"Private and confidential  ·  Our reference {doc.reference}"
        draw_string(canvas, MARGIN_X, FOOTER_Y, line, REGULAR, 7.5)
        if total > 1:
            page = f"Page {number} of {total}"
            draw_string(canvas, PAGE_W - MARGIN_X, FOOTER_Y, page, REGULAR, 7.5, "right")
        canvas.restoreState()

    return draw


def _quote(text: str, style_name: str = "quote") -> Table:
    para = Paragraph(esc(text), styles()[style_name])
    table = Table([[para]], colWidths=[PAGE_W - 2 * MARGIN_X - 8 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ("LINEBEFORE", (0, 0), (0, 0), 2, ACCENT),
                ("LEFTPADDING", (0, 0), (0, 0), 4 * mm),
                ("TOPPADDING", (0, 0), (0, 0), 1),
                ("BOTTOMPADDING", (0, 0), (0, 0), 2),
            ]
        )
    )
    table.hAlign = "RIGHT"
    return table


def letter_story(doc: LetterDocument) -> list[Flowable]:
    """The flowing part of the letter: subject, salutation, body and sign-off."""
    st = styles()
    story: list[Flowable] = [
        NextPageTemplate("later"),
        Paragraph(esc(doc.subject), st["subject"]),
        Paragraph(esc(doc.salutation), st["body"]),
    ]
    for block in doc.blocks:
        if block.quote:
            story += [_quote(block.text), Spacer(1, 3.5 * mm)]
        else:
            story.append(Paragraph(esc(block.text), st["body"]))
    sign: list[Flowable] = [Spacer(1, 1 * mm), Paragraph(esc(doc.closing), st["plain"])]
    signature = image_reader(doc.branding.signature)
    if signature is not None:
        w, h = fit_image(signature, 50 * mm, 16 * mm)
        image = Image(io.BytesIO(doc.branding.signature or b""), width=w, height=h)
        image.hAlign = "LEFT"
        sign += [Spacer(1, 1.5 * mm), image, Spacer(1, 1.5 * mm)]
    else:
        sign.append(Spacer(1, 16 * mm))
    sign += [
        Paragraph(esc(doc.signatory), st["bold"]),
        Paragraph(esc(doc.signatory_title), st["plain"]),
    ]
    story.append(KeepTogether(sign))
    return story


def render_letter(doc: LetterDocument) -> bytes:
    """The letter as PDF bytes; the same document always gives the same bytes."""
    out = io.BytesIO()
    profile = doc.branding.profile
    template = BaseDocTemplate(
        out,
        pagesize=A4,
        title=doc.title,
        author=profile.name,
        subject=f"Letter about case {doc.reference}",
        creator="Conduct Casebook",
        lang=LANGUAGE,
        invariant=1,
        # Otherwise every page names Helvetica, a font that is not embedded.
        initialFontName=REGULAR,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
    )
    width = PAGE_W - 2 * MARGIN_X
    first = Frame(
        MARGIN_X,
        BODY_BOTTOM,
        width,
        PAGE_H - BODY_TOP_FIRST - BODY_BOTTOM,
        id="first",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    later = Frame(
        MARGIN_X,
        BODY_BOTTOM,
        width,
        PAGE_H - BODY_TOP_LATER - BODY_BOTTOM,
        id="later",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    template.addPageTemplates(
        [
            PageTemplate("first", [first], onPage=_first_page(doc)),
            PageTemplate("later", [later], onPage=_later_page(doc)),
        ]
    )
    # The letter's own date is its creation date, so a reprint gives the same bytes.
    created = parse_long_date(doc.date_text)
    template.build(letter_story(doc), canvasmaker=numbered_canvas(_footer(doc), created))
    return unique_subset_names(out.getvalue())
