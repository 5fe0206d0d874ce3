"""The parent and carer guidance leaflet, in the Code's own words, on A4 or as an A5 booklet."""

from __future__ import annotations

import io
from datetime import date

from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    ListFlowable,
    ListItem,
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
    styles,
    unique_subset_names,
)
from app.pdf.documents import GuidanceDocument
from app.pdf.fonts import REGULAR


def _story(doc: GuidanceDocument, width: float, base: float) -> list[Flowable]:
    st = styles(base)
    code = doc.code
    profile = doc.branding.profile
    story: list[Flowable] = []
    logo = image_reader(doc.branding.logo)
    title = [
        Paragraph(esc(profile.name), st["h2"]),
        Paragraph("A guide for parents, carers and visitors", st["h1"]),
        Paragraph(esc(code.title), st["bold"]),
        Paragraph(esc(f"Code version {code.version} ({doc.code_date_text})"), st["small"]),
    ]
    if logo is not None and doc.branding.logo:
        from reportlab.platypus import Image

        w, h = fit_image(logo, 30 * mm, 22 * mm)
        table = Table(
            [[Image(io.BytesIO(doc.branding.logo), width=w, height=h), title]],
            colWidths=[34 * mm, width - 34 * mm],
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        story.append(table)
    else:
        story += title
    story.append(Spacer(1, base * 0.8))

    def bullets(texts: list[str], numbered: bool = False) -> ListFlowable:
        items = [ListItem(Paragraph(esc(t), st["body"]), leftIndent=base * 1.6) for t in texts]
        return ListFlowable(
            items,
            bulletType="1" if numbered else "bullet",
            start=1 if numbered else None,
            bulletFontName=REGULAR,
            bulletFontSize=base,
            leftIndent=base * 1.6,
            bulletColor=ACCENT,
        )

    story.append(Paragraph("Why the school has this Code", st["h2"]))
    story += [Paragraph(esc(p), st["body"]) for p in code.introduction]
    story.append(Paragraph(esc(code.purpose), st["body"]))
    story.append(bullets([a.text for a in code.aims]))
    story.append(Paragraph("The kinds of social media it covers", st["h2"]))
    story.append(Paragraph(esc(code.media_intro), st["body"]))
    story.append(bullets([k.text for k in code.media_kinds]))
    story.append(Paragraph("The standards the school expects", st["h2"]))
    story.append(Paragraph(esc(code.standards_intro), st["body"]))
    story.append(bullets([s.text for s in code.standards], numbered=True))

    concern: list[Flowable] = [
        Paragraph("How to raise a concern with the school", st["h2"]),
        Paragraph(
            esc(
                "Please bring any concern to the school directly, not to social media, so "
                "that it can be dealt with properly. You can contact:"
            ),
            st["body"],
        ),
    ]
    rows = [
        [Paragraph(esc(c.label), st["bold"]), Paragraph(esc(c.value), st["plain"])]
        for c in doc.contacts
    ]
    rows.append(
        [
            Paragraph("Address", st["bold"]),
            Paragraph(esc(", ".join(profile.address_lines())), st["plain"]),
        ]
    )
    table = Table(rows, colWidths=[width * 0.34, width * 0.66])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -2), 0.3, MUTED),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    concern.append(table)
    story.append(KeepTogether(concern))
    return story


def guidance_title(doc: GuidanceDocument) -> str:
    """The leaflet's title as a PDF reader shows it."""
    return f"A guide for parents, carers and visitors — {doc.code.title}"


def leaflet_date(doc: GuidanceDocument) -> date | None:
    """The leaflet's own date: the day the version of the Code it prints took effect (the
    date the leaflet itself states), so printing it again gives the same bytes."""
    try:
        return date.fromisoformat(doc.code.in_force_from)
    except ValueError:
        return None


def _footer(doc: GuidanceDocument, page_w: float, margin: float):  # type: ignore[no-untyped-def]
    def draw(canvas: Canvas, number: int, total: int) -> None:
        canvas.saveState()
        canvas.setFillColor(MUTED)
        line = f"{doc.branding.profile.name}  ·  Code version {doc.code.version}"
        draw_string(canvas, margin, 9 * mm, line, REGULAR, 7)
        if total > 1:
            page = f"Page {number} of {total}"
            draw_string(canvas, page_w - margin, 9 * mm, page, REGULAR, 7, "right")
        canvas.restoreState()

    return draw


def _render(
    doc: GuidanceDocument, pagesize: tuple[float, float], margin: float, base: float
) -> bytes:
    out = io.BytesIO()
    page_w, page_h = pagesize
    template = BaseDocTemplate(
        out,
        pagesize=pagesize,
        title=guidance_title(doc),
        author=doc.branding.profile.name,
        subject=f"{doc.code.title}, version {doc.code.version}",
        creator="Conduct Casebook",
        lang=LANGUAGE,
        invariant=1,
        # Otherwise every page names Helvetica, a font that is not embedded.
        initialFontName=REGULAR,
    )
    frame = Frame(
        margin,
        16 * mm,
        page_w - 2 * margin,
        page_h - margin - 16 * mm,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    template.addPageTemplates([PageTemplate("page", [frame])])
    template.build(
        _story(doc, page_w - 2 * margin, base),
        canvasmaker=numbered_canvas(_footer(doc, page_w, margin), leaflet_date(doc)),
    )
    return unique_subset_names(out.getvalue())


def _booklet(a5_pdf: bytes) -> bytes:
    """Impose A5 pages two to a landscape A4 sheet, in the order a folded booklet reads.

    Both sides of a sheet are upright, which is right for printing double-sided with the
    sheet turned on its short edge (as landscape sheets are); turned on the long edge, every
    back would print upside down.
    """
    from pypdf import PageObject, PdfReader, PdfWriter, Transformation
    from pypdf.generic import NameObject, TextStringObject

    reader = PdfReader(io.BytesIO(a5_pdf))
    pages = list(reader.pages)
    a5_w, a5_h = A5
    while len(pages) % 4:
        pages.append(PageObject.create_blank_page(width=a5_w, height=a5_h))
    count = len(pages)
    sheet_w, sheet_h = landscape(A4)
    writer = PdfWriter()
    for sheet in range(count // 4):
        for left, right in (
            (count - 1 - 2 * sheet, 2 * sheet),
            (2 * sheet + 1, count - 2 - 2 * sheet),
        ):
            side = PageObject.create_blank_page(width=sheet_w, height=sheet_h)
            side.merge_transformed_page(pages[left], Transformation())
            side.merge_transformed_page(pages[right], Transformation().translate(tx=a5_w))
            writer.add_page(side)
    writer.add_metadata(dict(reader.metadata or {}))
    writer._root_object[NameObject("/Lang")] = TextStringObject(LANGUAGE)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_guidance(doc: GuidanceDocument, *, a5_booklet: bool = False) -> bytes:
    """The leaflet as PDF bytes: A4 pages, or A5 pages imposed for folding into a booklet."""
    if a5_booklet:
        return _booklet(_render(doc, A5, 14 * mm, 8.5))
    return _render(doc, A4, 20 * mm, 10.5)
