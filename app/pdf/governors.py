"""The governors' report: anonymised figures for a period, as charts and tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Spacer,
    Table,
)

from app.domain.dates import format_short_date
from app.domain.report_figures import Figure, GovernorsReport, RemovalTimes
from app.pdf.common import ACCENT, Paragraph, esc, parse_long_date, styles
from app.pdf.fonts import REGULAR
from app.pdf.report_base import BODY_W, RULE, ReportPage, build_report, report_table


def _chart(figures: Sequence[Figure], horizontal: bool) -> Drawing:
    # A hidden count is drawn as an empty bar labelled "<3": its size is not shown.
    labels = [f.label for f in figures] or ["None"]
    values = [f.count or 0 for f in figures] or [0]
    texts = [str(f.count) if not f.hidden else f"<{f.threshold}" for f in figures] or ["0"]
    top = max(values) if values else 0
    step = max(1, (top + 4) // 5)
    if horizontal:
        height = max(50, 16 * len(labels) + 20)
        drawing = Drawing(BODY_W, height)
        chart: Any = HorizontalBarChart()
        chart.x, chart.y = 150, 10
        chart.width, chart.height = BODY_W - 180, height - 20
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -4
        chart.data = [list(reversed(values))]
        texts = list(reversed(texts))
        chart.categoryAxis.categoryNames = list(reversed(labels))
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 3
    else:
        height = 150
        drawing = Drawing(BODY_W, height)
        chart = VerticalBarChart()
        chart.x, chart.y = 30, 30
        chart.width, chart.height = BODY_W - 40, height - 45
        chart.data = [values]
        chart.categoryAxis.categoryNames = labels
        chart.categoryAxis.labels.angle = 30 if len(labels) > 6 else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 6 else "n"
        chart.barLabels.boxAnchor = "s"
        chart.barLabels.dy = 2
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(step * 5, top + step)
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = 7.5
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    chart.barLabelArray = [texts]
    chart.barLabelFormat = "values"
    chart.barLabels.fontName = REGULAR
    chart.barLabels.fontSize = 7
    # Otherwise the drawing starts in Times-Roman, a font that is not embedded.
    drawing.initialFontName = REGULAR
    drawing.add(chart)
    if not figures or all(f.count == 0 for f in figures):
        drawing.add(String(BODY_W / 2, height / 2, "No cases", fontName=REGULAR, fontSize=9))
    return drawing


def _table(figures: Sequence[Figure], heading: str, s: dict[str, Any]) -> Table:
    rows: list[list[Any]] = [[Paragraph(f"<b>{esc(heading)}</b>", s["plain"]), "Cases"]]
    rows += [[Paragraph(esc(f.label), s["plain"]), f.text] for f in figures]
    return report_table(
        rows,
        [BODY_W - 30 * mm, 30 * mm],
        extra=[
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.25, RULE),
        ],
    )


def _removal_table(groups: Sequence[RemovalTimes], heading: str, s: dict[str, Any]) -> Table:
    head = [heading, "Removed", "From report", "From posting"]
    rows: list[list[Any]] = [[Paragraph(f"<b>{esc(h)}</b>", s["plain"]) for h in head]]
    for g in groups:
        rows.append(
            [
                Paragraph(esc(g.label), s["plain"]),
                g.removed.text,
                Paragraph(esc(g.from_report_text), s["plain"]),
                Paragraph(esc(g.from_posting_text), s["plain"]),
            ]
        )
    if not groups:
        rows.append([Paragraph("No post was removed in this period.", s["plain"]), "0", "", ""])
    return report_table(
        rows,
        [BODY_W - 115 * mm, 25 * mm, 45 * mm, 45 * mm],
        extra=[
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.25, RULE),
        ],
    )


def render_governors_report(report: GovernorsReport, *, school: str, generated_on: str) -> bytes:
    """The report as PDF bytes: A4, charts and tables, no names or case references."""
    s = styles(10)
    period = f"{format_short_date(report.start)} to {format_short_date(report.end)}"
    story: list[Any] = [
        Paragraph(esc(school), s["h2"]),
        Paragraph("Social media cases: report to governors", s["h1"]),
        Paragraph(
            f"Cases opened from {esc(period)}. The figures are anonymised: the report "
            "names no one and gives no case references.",
            s["body"],
        ),
        Paragraph(esc(report.threshold_note), s["small"]),
        Spacer(1, 3 * mm),
    ]
    summary = [
        ["Cases opened in the period", report.total.text],
        ["Still open", report.open.text],
        ["Closed", report.closed.text],
        *(
            [["People who wrote more than one of these posts", report.repeat_authors.text]]
            if report.repeat_authors is not None
            else []
        ),
        ["Posts removed or corrected", report.removals.removed.text],
        ["Median time from report to removal", report.removals.from_report_text],
        ["Median time from posting to removal", report.removals.from_posting_text],
    ]
    table = report_table(
        [[Paragraph(esc(a), s["plain"]), b] for a, b in summary],
        [BODY_W - 60 * mm, 60 * mm],
        header=False,
        extra=[("FONTSIZE", (0, 0), (-1, -1), 10), ("ALIGN", (1, 0), (1, -1), "RIGHT")],
    )
    story += [table, Spacer(1, 4 * mm)]
    sections = (
        ("Cases by standard of the Code breached", "Standard", report.by_standard, True),
        ("Cases by month opened", "Month", report.by_month, False),
        ("Cases by platform", "Platform", report.by_platform, True),
        ("Cases by outcome", "Outcome", report.by_outcome, True),
    )
    for title, heading, items, horizontal in sections:
        story.append(
            KeepTogether(
                [
                    Paragraph(esc(title), s["h2"]),
                    _chart(items, horizontal),
                    Spacer(1, 2 * mm),
                    _table(items, heading, s),
                ]
            )
        )
    terms = (
        "the school's term dates"
        if report.terms_from_profile
        else (
            "the usual terms (autumn from September, spring from January, summer from April), "
            "as the school profile gives no term dates"
        )
    )
    for title, heading, groups in (
        ("Time to removal by platform", "Platform", report.removal_by_platform),
        (
            "Time to removal by school term (term the post was reported)",
            "Term",
            report.removal_by_term,
        ),
    ):
        story.append(
            KeepTogether([Paragraph(esc(title), s["h2"]), _removal_table(groups, heading, s)])
        )
    story.append(
        Paragraph(
            esc(
                "Times are medians, counted from when the post was reported to the school and "
                "from when it was posted (where the posting time is known), to the first record "
                f"that it had gone. Terms follow {terms}."
            ),
            s["small"],
        )
    )
    story.append(Spacer(1, 6 * mm))
    story.append(
        Paragraph(
            "A case may breach more than one standard, so the standards can add up to more "
            "than the number of cases.",
            s["small"],
        )
    )

    page = ReportPage(
        title=f"Report to governors, {period}",
        author=school,
        footer_left=f"Report to governors, {period}",
        footer_right=f"Generated {generated_on}",
        created=parse_long_date(generated_on),
    )
    return build_report(story, page)
