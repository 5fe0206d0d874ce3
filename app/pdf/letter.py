"""A4 letters laid out for a DL window envelope, with the Code's words quoted verbatim.

The recipient's address sits where a DL window shows it once the page is folded in
three (window about 20 mm from the left edge, 45 mm from the top, 90 x 45 mm).
"""

from __future__ import annotations

import io

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
    unique_subset_names,
)
from app.pdf.documents import Branding, LetterDocument
from app.pdf.fonts import BOLD, REGULAR

PAGE_W, PAGE_H = A4
MARGIN_X = 22 * mm
# The window of a DL envelope, measured from the page's top-left corner.
WINDOW_LEFT = 20 * mm
WINDOW_TOP = 45 * mm
WINDOW_WIDTH = 90 * mm
WINDOW_HEIGHT = 45 * mm
ADDRESS_LEFT = 25 * mm
ADDRESS_TOP = 50 * mm
BODY_TOP_FIRST = 102 * mm
BODY_TOP_LATER = 24 * mm
BODY_BOTTOM = 24 * mm
FOOTER_Y = 12 * mm


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
        y = PAGE_H - ADDRESS_TOP
        canvas.setFillColor(MUTED)
        canvas.setFont(BOLD, 8.5)
        y -= 8.5
        canvas.drawString(ADDRESS_LEFT, y, "PRIVATE AND CONFIDENTIAL")
        y -= 3 * mm
        canvas.setFillColorRGB(0, 0, 0)
        for index, line in enumerate((doc.recipient_name, *doc.recipient_address)):
            y -= 13
            draw_string(canvas, ADDRESS_LEFT, y, line, BOLD if index == 0 else REGULAR, 10.5)
        # Date and reference on the right, level with the address.
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
