"""The subject access PDF: everything the school holds about one person, on A4."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app.domain.retention import SubjectAccessReport
from app.pdf.common import MUTED, esc, numbered_canvas, styles
from app.pdf.fonts import BOLD, REGULAR

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
BODY_W = PAGE_W - 2 * MARGIN
RULE = colors.HexColor("#cccccc")


def _table(
    rows: list[list[Any]], widths: list[float], s: dict[str, Any], small_column: int = -1
) -> Table:
    cell = s["table"]
    head = s["table-head"]
    data = [[Paragraph(esc(str(v)), head) for v in rows[0]]]
    data += [
        [
            Paragraph(esc(str(v)), s["table-small"] if n == small_column else cell)
            for n, v in enumerate(row)
        ]
        for row in rows[1:]
    ]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _none(text: str, s: dict[str, Any]) -> Paragraph:
    return Paragraph(esc(text), s["small"])


def render_subject_access(report: SubjectAccessReport) -> bytes:
    """The report as PDF bytes."""
    s = styles(10)
    s["table"] = s["plain"].clone("table", fontSize=8.5, leading=11)
    s["table-head"] = s["table"].clone("table-head", fontName=BOLD)
    s["table-small"] = s["table"].clone("table-small", fontSize=7, leading=9.5)
    story: list[Any] = [
        Paragraph(esc(report.school), s["h2"]),
        Paragraph("Subject access request", s["h1"]),
        Paragraph(
            f"Information held about <b>{esc(report.person_name)}</b>, prepared on "
            f"{esc(report.generated_on)}.",
            s["body"],
        ),
    ]
    if report.person_details:
        story.append(Paragraph(esc(", ".join(report.person_details)), s["body"]))
    story.append(
        Paragraph(
            "Other people's names and contact details are replaced by “[third party]” to "
            "protect their privacy. Evidence is listed with its fingerprint (SHA-256); copies "
            "are included only where a redacted copy has been made.",
            s["small"],
        )
    )

    story.append(Paragraph(f"Cases ({len(report.cases)})", s["h2"]))
    if not report.cases:
        story.append(_none("No cases are linked to this person.", s))
    for case in report.cases:
        lines = [
            Paragraph(f"<b>{esc(case.reference)}</b> — {esc(case.title)}", s["plain"]),
            Paragraph(
                esc(
                    f"Role: {', '.join(case.roles)}. Status: {case.status}. "
                    f"Opened {case.opened_on}. Standards: {', '.join(case.standards) or 'none'}."
                ),
                s["small"],
            ),
        ]
        if case.summary:
            lines.append(Paragraph(esc(case.summary), s["plain"]))
        if case.others_withheld:
            count = case.others_withheld
            lines.append(
                Paragraph(
                    f"{count} other {'person is' if count == 1 else 'people are'} linked to "
                    "this case; their details are withheld.",
                    s["small"],
                )
            )
        lines.append(Spacer(1, 3 * mm))
        story.append(KeepTogether(lines))

    story.append(Paragraph(f"Letters addressed to this person ({len(report.letters)})", s["h2"]))
    if report.letters:
        rows = [["Date", "Case", "Letter", "Subject", "File in the zip"]]
        rows += [
            [x.date, x.reference, x.label, x.subject, x.file_name.rsplit("/", 1)[-1]]
            for x in report.letters
        ]
        widths = [20 * mm, 27 * mm, 40 * mm, 45 * mm, BODY_W - 132 * mm]
        story.append(_table(rows, widths, s))
    else:
        story.append(_none("No letters have been sent to this person.", s))

    story.append(
        Paragraph(
            f"Notes and chronology entries about this person ({len(report.entries)})", s["h2"]
        )
    )
    if report.entries:
        rows = [["Date", "Case", "Entry"]]
        rows += [[e.when, e.reference, e.text] for e in report.entries]
        story.append(_table(rows, [20 * mm, 27 * mm, BODY_W - 47 * mm], s))
    else:
        story.append(_none("No notes or entries mention this person.", s))

    story.append(Paragraph(f"Evidence on these cases ({len(report.exhibits)})", s["h2"]))
    if report.exhibits:
        rows = [["Case", "Exhibit", "File name", "Added", "SHA-256", "Copy"]]
        rows += [
            [
                x.reference,
                x.label,
                x.name,
                x.added_on,
                x.sha256[:32] + "\n" + x.sha256[32:],
                "Redacted copy in the zip" if x.redacted_copy else "Not included",
            ]
            for x in report.exhibits
        ]
        widths = [25 * mm, 16 * mm, 33 * mm, 20 * mm, 53 * mm, BODY_W - 147 * mm]
        story.append(_table(rows, widths, s, small_column=4))
    else:
        story.append(_none("No evidence is held on these cases.", s))

    def footer(canvas: Any, number: int, total: int) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 9 * mm, f"Subject access request: {report.person_name}")
        canvas.drawCentredString(PAGE_W / 2, 9 * mm, f"Page {number} of {total}")
        canvas.drawRightString(PAGE_W - MARGIN, 9 * mm, f"Prepared {report.generated_on}")
        canvas.restoreState()

    out = io.BytesIO()
    template = BaseDocTemplate(
        out,
        pagesize=A4,
        title=f"Subject access request: {report.person_name}",
        author=report.school,
        creator="Conduct Casebook",
        invariant=1,
        initialFontName=REGULAR,
    )
    frame = Frame(MARGIN, 16 * mm, BODY_W, PAGE_H - MARGIN - 16 * mm, 0, 0, 0, 0)
    template.addPageTemplates([PageTemplate("page", [frame])])
    template.build(story, canvasmaker=numbered_canvas(footer))
    return out.getvalue()
