"""The one A4 report base: page constants, footer, numbered canvas and table styles shared
by the case file, the governors' report and the subject access PDF (the idea of pretix's
``BaseReportlabInvoiceRenderer``: one page template, documents supply their story)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Table, TableStyle

from app.pdf.common import (
    ACCENT,
    LANGUAGE,
    MUTED,
    draw_string,
    numbered_canvas,
    unique_subset_names,
)
from app.pdf.fonts import REGULAR

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
FOOT = 16 * mm
FOOTER_Y = 9 * mm
BODY_W = PAGE_W - 2 * MARGIN
BODY_H = PAGE_H - MARGIN - FOOT
RULE = colors.HexColor("#cccccc")
HEAD_BACKGROUND = colors.HexColor("#e8eef5")


@dataclass(frozen=True)
class ReportPage:
    """What a report says about itself: its metadata and the two ends of its footer."""

    title: str
    author: str
    footer_left: str
    footer_right: str
    subject: str = ""
    created: datetime | date | None = None


def footer(page: ReportPage) -> Callable[[Canvas, int, int], None]:
    """The footer of every report page: what it is, "Page X of Y", and when it was made."""

    def draw(canvas: Canvas, number: int, total: int) -> None:
        canvas.saveState()
        canvas.setFillColor(MUTED)
        draw_string(canvas, MARGIN, FOOTER_Y, page.footer_left, REGULAR, 7.5)
        draw_string(
            canvas, PAGE_W / 2, FOOTER_Y, f"Page {number} of {total}", REGULAR, 7.5, "centre"
        )
        draw_string(canvas, PAGE_W - MARGIN, FOOTER_Y, page.footer_right, REGULAR, 7.5, "right")
        canvas.restoreState()

    return draw


def table_style(
    header: bool = True, *, lines: str = "rule", extra: Sequence[tuple[Any, ...]] = ()
) -> TableStyle:
    """The reports' table look: top-aligned cells, thin rules, a tinted heading row."""
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        if lines == "plain":
            commands.append(("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED))
        else:
            commands += [
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_BACKGROUND),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
            ]
    commands += list(extra)
    return TableStyle(commands)


def report_table(
    rows: list[list[Any]],
    widths: list[float],
    header: bool = True,
    *,
    lines: str = "rule",
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    """A table in the reports' look; the heading row repeats on each page it runs onto."""
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    table.setStyle(table_style(header, lines=lines, extra=extra))
    return table


def build_report(story: list[Flowable], page: ReportPage) -> bytes:
    """Lay ``story`` out on numbered A4 pages with the report footer; the PDF's bytes."""
    out = io.BytesIO()
    template = BaseDocTemplate(
        out,
        pagesize=A4,
        title=page.title,
        author=page.author,
        subject=page.subject,
        creator="Conduct Casebook",
        lang=LANGUAGE,
        invariant=1,
        # Otherwise every page names Helvetica, a font that is not embedded.
        initialFontName=REGULAR,
    )
    frame = Frame(
        MARGIN, FOOT, BODY_W, BODY_H, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0
    )
    template.addPageTemplates([PageTemplate("page", [frame])])
    template.build(story, canvasmaker=numbered_canvas(footer(page), page.created))
    return unique_subset_names(out.getvalue())
