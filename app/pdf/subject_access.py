"""The subject access PDF: everything the school holds about one person, on A4."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Spacer,
    Table,
)

from app.domain.subject_access import ICO_CONTACT, SubjectAccessResponse
from app.pdf.common import Paragraph, esc, parse_long_date, styles
from app.pdf.fonts import BOLD
from app.pdf.report_base import BODY_W, ReportPage, build_report, report_table


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
    return report_table(data, widths, lines="plain")


def _none(text: str, s: dict[str, Any]) -> Paragraph:
    return Paragraph(esc(text), s["small"])


def _list(lines: tuple[str, ...], s: dict[str, Any]) -> list[Any]:
    return [Paragraph("• " + esc(line), s["plain"]) for line in lines]


def render_subject_access(report: SubjectAccessResponse) -> bytes:
    """The response as PDF bytes."""
    s = styles(10)
    s["table"] = s["plain"].clone("table", fontSize=8.5, leading=11)
    s["table-head"] = s["table"].clone("table-head", fontName=BOLD)
    s["table-small"] = s["table"].clone("table-small", fontSize=7, leading=9.5)
    story: list[Any] = [
        Paragraph(esc(report.school), s["h2"]),
        Paragraph("Response to a subject access request", s["h1"]),
        Paragraph(
            f"The personal data the school holds about <b>{esc(report.person_name)}</b>, "
            f"prepared on {esc(report.generated_on)} under Article 15 of the UK GDPR.",
            s["body"],
        ),
    ]
    if report.person_details:
        story.append(Paragraph(esc(", ".join(report.person_details)), s["body"]))
    request = [
        ["Request received", report.received_on],
        ["Identity", report.identity],
        ["Response due by", report.due_on],
    ]
    if report.extension:
        request.append(["Time extended", report.extension])
    story.append(_table([["The request", ""], *request], [40 * mm, BODY_W - 40 * mm], s))

    included = sum(1 for i in report.items if i.included)
    withheld = report.withheld_count
    story.append(Paragraph("What this response holds", s["h2"]))
    story.append(
        Paragraph(
            esc(
                f"{len(report.cases)} case record(s), {len(report.letters)} letter(s) sent to "
                f"you, {len(report.entries)} chronology entry(ies) "
                f"and {included} exhibit(s) or letter(s) as files in the zip. "
                + (
                    f"{withheld} item(s) are withheld, listed below with the ground for each."
                    if withheld
                    else "Nothing is withheld."
                )
            ),
            s["body"],
        )
    )
    if report.withheld:
        rows = [["Items", "Ground", "What"]]
        rows += [[str(w.count), w.ground, w.detail] for w in report.withheld]
        story.append(_table(rows, [14 * mm, 70 * mm, BODY_W - 84 * mm], s))
    if report.redacted_passages:
        story.append(
            Paragraph(
                esc(
                    f"In {report.redacted_passages} passage(s) other people's names, contact "
                    "details or file names are replaced by “[third party]” or “Exhibit N”, to "
                    "protect their privacy."
                ),
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

    exhibits = [i for i in report.items if i.label.startswith("Exhibit")]
    story.append(Paragraph(f"Evidence on these cases ({len(exhibits)})", s["h2"]))
    if exhibits:
        rows = [["Case", "Exhibit", "Added", "SHA-256", "In this response"]]
        rows += [
            [
                x.reference,
                x.label,
                x.added_on,
                x.sha256[:32] + "\n" + x.sha256[32:],
                "Redacted copy in the zip" if x.included else f"Withheld: {x.withheld_because}",
            ]
            for x in exhibits
        ]
        widths = [25 * mm, 16 * mm, 20 * mm, 53 * mm, BODY_W - 114 * mm]
        story.append(_table(rows, widths, s, small_column=3))
    else:
        story.append(_none("No evidence is held on these cases.", s))
    others = [i for i in report.items if i.label.startswith("Letter") and not i.included]
    if others:
        rows = [["Case", "Letter", "Withheld because"]]
        rows += [[x.reference, x.label, x.withheld_because] for x in others]
        story.append(Spacer(1, 3 * mm))
        story.append(_table(rows, [25 * mm, 60 * mm, BODY_W - 85 * mm], s))

    story.append(Paragraph("Why the school holds this information", s["h2"]))
    story += _list(report.purposes, s)
    story.append(Paragraph("What kinds of information", s["h2"]))
    story += _list(report.categories, s)
    story.append(Paragraph("Who it has been given to", s["h2"]))
    story += _list(report.recipients, s)
    story.append(Paragraph("Where it came from", s["h2"]))
    story += _list(report.sources, s)
    story.append(Paragraph("How long it is kept", s["h2"]))
    story += _list(report.retention, s)
    story.append(Paragraph("Your rights", s["h2"]))
    contact = "; ".join(report.school_contact) or "the school office"
    story += _list(
        (
            "To have inaccurate information corrected, and incomplete information completed "
            "(rectification, Article 16).",
            "To ask for information to be deleted (erasure, Article 17).",
            "To ask the school to limit how it uses the information (restriction, Article 18).",
            "To object to the school using the information (objection, Article 21).",
            f"To use any of these rights, please contact the school: {contact}.",
        ),
        s,
    )
    story.append(Paragraph("Making a complaint", s["h2"]))
    story.append(
        Paragraph(
            esc(
                "If you are unhappy with how the school has used your information or answered "
                "this request, please tell the school first. You also have the right to "
                "complain to the Information Commissioner's Office (ICO), the UK's regulator "
                "for data protection:"
            ),
            s["body"],
        )
    )
    story += [Paragraph(esc(line), s["plain"]) for line in ICO_CONTACT]

    page = ReportPage(
        title=f"Subject access response: {report.person_name}",
        author=report.school,
        footer_left=f"Subject access response: {report.person_name}",
        footer_right=f"Prepared {report.generated_on}",
        created=parse_long_date(report.generated_on),
    )
    return build_report(story, page)
