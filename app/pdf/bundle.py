"""The case file bundle: one PDF with everything about a case, and numbered exhibits.

Pages of PDF exhibits and of letters are first reserved as empty slots with a heading and a
footer; after reportlab has laid the bundle out, pypdf scales each page into its slot. So the
footer of every page (case reference, page X of Y, generation date) comes from one place.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from pypdf import PdfReader
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Preformatted,
    Spacer,
    Table,
    TableStyle,
)

from app.pdf.common import (
    ACCENT,
    Paragraph,
    esc,
    fit_image,
    image_reader,
    parse_long_date,
    styles,
)
from app.pdf.fonts import REGULAR, is_simple
from app.pdf.report_base import BODY_H, BODY_W, ReportPage, build_report, report_table
from app.pdf.sanitise import sanitise_pdf


@dataclass(frozen=True)
class BundleStandard:
    """A standard of the Code the case breaches, quoted verbatim."""

    label: str
    number: int
    text: str


@dataclass(frozen=True)
class BundlePerson:
    name: str
    role: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class BundleEvent:
    when: str
    who: str
    summary: str


@dataclass(frozen=True)
class BundleLetter:
    date: str
    label: str
    recipient: str
    subject: str
    pdf: bytes


@dataclass(frozen=True)
class BundleExhibit:
    """One exhibit as it goes into the bundle: the content shown and its provenance."""

    number: int
    original_name: str
    description: str  # type, size, pages
    sha256: str  # of the original as stored
    shown_sha256: str  # of the copy shown (a copy without metadata, or redacted)
    content_type: str
    data: bytes  # empty when withheld
    details: tuple[str, ...] = ()
    withheld_reason: str = ""
    added_on: str = ""  # '24/11/2026'

    @property
    def heading(self) -> str:
        """'Exhibit 3: photo.jpg', or 'Exhibit 3' in a copy that must not show file names."""
        if self.original_name:
            return f"Exhibit {self.number}: {self.original_name}"
        return f"Exhibit {self.number}"

    @property
    def kind(self) -> str:
        if self.withheld_reason or not self.data:
            return "withheld"
        base = self.content_type.split(";", 1)[0]
        if base.startswith("image/"):
            return "image"
        if base == "application/pdf":
            return "pdf"
        if base.startswith("text/"):
            return "text"
        return "other"


@dataclass(frozen=True)
class BundleWithheld:
    """Something left out of a copy for a recipient, and why."""

    what: str
    why: str


@dataclass(frozen=True)
class BundleDocument:
    """Everything the bundle prints; built by the service, rendered here."""

    reference: str
    title: str
    school: str
    generated_on: str  # '24 November 2026'
    generated_by: str
    for_sharing: bool
    status: str
    summary: str
    facts: tuple[tuple[str, str], ...]  # (label, value): platform, address, dates...
    standards: tuple[BundleStandard, ...]
    code_title: str
    code_version: str
    people: tuple[BundlePerson, ...]
    events: tuple[BundleEvent, ...]
    letters: tuple[BundleLetter, ...]
    exhibits: tuple[BundleExhibit, ...]
    escalation: tuple[str, ...] = ()
    outcome: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    copy_title: str = ""  # "Copy for the police"; empty for the head's complete file
    rule: str = ""  # what this recipient is given, in words
    withheld: tuple[BundleWithheld, ...] = ()


@dataclass
class _Slot:
    """Where one page of an included PDF goes."""

    source: Any  # pypdf PageObject
    page: int = 0
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


class _SlotFlowable(Flowable):
    """An empty box that notes its page and place, for a PDF page merged in afterwards."""

    def __init__(self, slot: _Slot, width: float, height: float) -> None:
        super().__init__()
        self.slot = slot
        self.width = width
        self.height = height

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        x, y = canvas.absolutePosition(0, 0)
        self.slot.page = canvas._doctemplate.page
        self.slot.x, self.slot.y, self.slot.w, self.slot.h = x, y, self.width, self.height
        canvas.saveState()
        canvas.setStrokeColor(colors.HexColor("#bbbbbb"))
        canvas.setLineWidth(0.5)
        canvas.rect(0, 0, self.width, self.height)
        canvas.restoreState()


def _page(doc: BundleDocument) -> ReportPage:
    left = f"Case {doc.reference}"
    if doc.copy_title:
        left += f"  ·  {doc.copy_title}"
    elif doc.for_sharing:
        left += "  ·  Redacted copy for sharing"
    return ReportPage(
        title=f"Case file {doc.reference}",
        author=doc.school,
        subject=doc.title,
        footer_left=left,
        footer_right=f"Generated {doc.generated_on}",
        created=parse_long_date(doc.generated_on),
    )


def _table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    return report_table(rows, widths, header)


def _pdf_pages(data: bytes) -> list[Any] | None:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return None
        return list(reader.pages)
    except Exception:  # a damaged PDF is listed, not included
        return None


TEXT_COLUMNS = 88
TEXT_CHUNK_LINES = 60


def _text_flowables(text: str, style: Any) -> list[Flowable]:
    """A text exhibit line for line, wrapped at a fixed number of characters.

    One Paragraph of a whole chat export is re-measured word by word on every page it
    spills onto (minutes for a few hundred KB); pre-wrapped lines drawn as they are take a
    fraction of a second, and keep the exhibit's own line breaks.
    """
    small = style.clone("exhibit-text", fontSize=8, leading=10)
    lines: list[str] = []
    for line in text.splitlines():
        lines += textwrap.wrap(line, TEXT_COLUMNS, drop_whitespace=False) or [""]
    if not is_simple(text):
        # Other scripts need their own fonts and shaping, which only a Paragraph gives:
        # one per line, so no Paragraph is long.
        return [Paragraph(esc(line), small) if line.strip() else Spacer(1, 10) for line in lines]
    return [
        Preformatted("\n".join(lines[i : i + TEXT_CHUNK_LINES]), small)
        for i in range(0, len(lines), TEXT_CHUNK_LINES)
    ]


# A screenshot shrunk to fit one page whole is kept whole only while it stays at least this
# wide; a taller one (a 1080 x 9000 phone capture) is printed at the page's width instead,
# over as many pages as it needs, so its words stay readable.
WHOLE_IMAGE_MIN_WIDTH = 0.6
SLICE_MIN_HEIGHT = 40 * mm


class _ImageSlice(Flowable):
    """Part of a tall image at a fixed scale: the image is drawn once per page, clipped to
    the part that belongs there (the PDF holds the picture once)."""

    def __init__(
        self, reader: Any, width: float, total: float, offset: float, label: str, style: Any
    ) -> None:
        super().__init__()
        self.reader = reader
        self.width = width
        self.total = total  # the whole image's height at this scale
        self.offset = offset  # how far down the image this part starts
        self.height = total - offset
        self.label = label
        self.style = style

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        note = Paragraph(esc(f"{self.label} continues on the next page."), self.style)
        _, note_h = note.wrap(avail_width, avail_height)
        room = avail_height - note_h - 2 * mm
        if room < SLICE_MIN_HEIGHT:
            return []
        part = _ImageSlice(self.reader, self.width, self.total, self.offset, self.label, self.style)
        part.height = room
        rest = _ImageSlice(
            self.reader, self.width, self.total, self.offset + room, self.label, self.style
        )
        return [
            part,
            Spacer(1, 2 * mm),
            note,
            PageBreak(),
            Paragraph(esc(f"{self.label}, continued"), self.style),
            Spacer(1, 2 * mm),
            rest,
        ]

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        clip = canvas.beginPath()
        clip.rect(0, 0, self.width, self.height)
        canvas.clipPath(clip, stroke=0, fill=0)
        top = self.height + self.offset
        # The picture goes into the PDF as binary rather than ASCII85 text: a fifth smaller,
        # and reportlab's text codec is spared megabytes of characters per exhibit. The
        # setting is read only while the image object is made.
        ascii85 = rl_config.useA85
        rl_config.useA85 = 0
        try:
            canvas.drawImage(self.reader, 0, top - self.total, self.width, self.total, mask="auto")
        finally:
            rl_config.useA85 = ascii85
        canvas.restoreState()


class _JpegAsIs(ImageReader):
    """A JPEG that reportlab embeds byte for byte.

    reportlab names every image by a digest of its decoded pixels, so it would decode each
    exhibit once more only to name it; the JPEG's own bytes identify it as well, and the
    picture itself is copied into the PDF without being decoded (DCTDecode).
    """

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self._jpeg = data

    def getRGBData(self) -> bytes:
        self._dataA = None
        return self._jpeg


def _exhibit_reader(data: bytes) -> Any:
    if data[:2] == b"\xff\xd8":
        reader = _JpegAsIs(data)
        if reader.jpeg_fh() is not None:
            return reader
    return image_reader(data)


def _image_flowables(
    exhibit: BundleExhibit, reader: Any, head: list[Flowable], s: dict[str, Any]
) -> list[Flowable]:
    width, height = reader.getSize()
    room = BODY_H - 24 * mm
    w, h = fit_image(reader, BODY_W, room)
    if w >= BODY_W * WHOLE_IMAGE_MIN_WIDTH or h < room:
        whole = _ImageSlice(reader, w, h, 0.0, f"Exhibit {exhibit.number}", s["small"])
        whole.hAlign = "CENTER"
        return [KeepTogether([*head, whole])]
    scale = BODY_W / width
    label = f"Exhibit {exhibit.number}"
    slices = _ImageSlice(reader, BODY_W, height * scale, 0.0, label, s["small"])
    return [*head, slices]


class _Story:
    def __init__(self, doc: BundleDocument) -> None:
        self.doc = doc
        self.s = styles(9.5)
        self.slots: list[_Slot] = []
        self.items: list[Flowable] = []

    def p(self, text: str, style: str = "body") -> Paragraph:
        return Paragraph(esc(text), self.s[style])

    def cover(self) -> None:
        doc = self.doc
        s = self.s
        self.items += [
            Spacer(1, 40 * mm),
            Paragraph(esc(doc.school), s["h2"]),
            Paragraph(esc(doc.copy_title) if doc.copy_title else "Case file", s["h1"]),
            Paragraph(f"<b>{esc(doc.reference)}</b>: {esc(doc.title)}", s["body"]),
            Spacer(1, 8 * mm),
        ]
        rows = [
            ["Status", doc.status],
            ["Generated", f"{doc.generated_on} by {doc.generated_by}"],
            ["Exhibits", str(len(doc.exhibits))],
            ["Letters", str(len(doc.letters))],
            ["Chronology entries", str(len(doc.events))],
        ]
        if doc.outcome:
            rows.insert(1, ["Outcome", doc.outcome])
        self.items.append(
            _table(
                [[self.p(a, "bold"), self.p(b, "plain")] for a, b in rows],
                [45 * mm, BODY_W - 45 * mm],
                header=False,
            )
        )
        if doc.rule:
            self.items += [Spacer(1, 8 * mm), self.p(doc.rule, "bold")]
        if doc.for_sharing or doc.withheld:
            count = len(doc.withheld)
            self.items += [
                Spacer(1, 3 * mm),
                self.p(
                    f"{count} item{'s' if count != 1 else ''} withheld from this copy; "
                    "section 7 lists each and why."
                    if count
                    else "Nothing was withheld from this copy.",
                    "plain",
                ),
            ]
        self.items.append(Spacer(1, 10 * mm))
        self.items.append(
            Paragraph(
                "Contents: 1 Summary and standards · 2 People · 3 Chronology · "
                "4 Letters · 5 Exhibits · 6 Manifest"
                + (" · 7 Withheld from this copy" if doc.for_sharing or doc.withheld else ""),
                s["small"],
            )
        )
        self.items.append(PageBreak())

    def summary(self) -> None:
        doc = self.doc
        s = self.s
        self.items.append(Paragraph("1. Summary and standards", s["h1"]))
        self.items.append(self.p(doc.summary or "No summary was recorded."))
        facts = [[self.p(a, "bold"), self.p(b, "plain")] for a, b in doc.facts if b]
        if facts:
            self.items.append(_table(facts, [45 * mm, BODY_W - 45 * mm], header=False))
        self.items.append(
            Paragraph(
                f"Standards of the {esc(doc.code_title)} (version {esc(doc.code_version)}) "
                "that the post breaches, quoted in full:",
                s["h2"],
            )
        )
        for standard in doc.standards:
            quote = Table(
                [[Paragraph(esc(standard.text), s["quote"])]],
                colWidths=[BODY_W - 6 * mm],
            )
            quote.setStyle(
                TableStyle(
                    [
                        # A table names its font on every page it draws on (Helvetica if
                        # none is given, a font that is not embedded).
                        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                        ("LINEBEFORE", (0, 0), (0, 0), 2, ACCENT),
                        ("LEFTPADDING", (0, 0), (0, 0), 4 * mm),
                    ]
                )
            )
            quote.hAlign = "RIGHT"
            self.items.append(
                KeepTogether(
                    [
                        Paragraph(
                            f"<b>Standard {standard.number}</b> ({esc(standard.label)})",
                            s["plain"],
                        ),
                        quote,
                        Spacer(1, 3 * mm),
                    ]
                )
            )
        if doc.escalation:
            self.items.append(Paragraph("Escalation", s["h2"]))
            for line in doc.escalation:
                self.items.append(self.p(line, "plain"))

    def people(self) -> None:
        s = self.s
        self.items.append(Paragraph("2. People", s["h1"]))
        if not self.doc.people:
            self.items.append(self.p("No people are linked to this case."))
            return
        rows: list[list[Any]] = [[self.p("Name", "bold"), self.p("Part in the case", "bold")]]
        rows[0].append(self.p("Details", "bold"))
        for person in self.doc.people:
            rows.append(
                [
                    self.p(person.name, "plain"),
                    self.p(person.role, "plain"),
                    self.p("\n".join(person.details), "plain"),
                ]
            )
        self.items.append(_table(rows, [55 * mm, 35 * mm, BODY_W - 90 * mm]))

    def chronology(self) -> None:
        s = self.s
        self.items += [CondPageBreak(60 * mm), Paragraph("3. Chronology", s["h1"])]
        rows: list[list[Any]] = [
            [self.p("When", "bold"), self.p("Who", "bold"), self.p("What happened", "bold")]
        ]
        for event in self.doc.events:
            rows.append(
                [
                    self.p(event.when, "plain"),
                    self.p(event.who, "plain"),
                    self.p(event.summary, "plain"),
                ]
            )
        self.items.append(_table(rows, [28 * mm, 32 * mm, BODY_W - 60 * mm]))

    def included_pdf(self, heading: str, pages: list[Any]) -> None:
        for index, page in enumerate(pages, start=1):
            self.items.append(PageBreak())
            suffix = f", page {index} of {len(pages)}" if len(pages) > 1 else ""
            self.items.append(Paragraph(esc(heading + suffix), self.s["h2"]))
            slot = _Slot(page)
            self.slots.append(slot)
            self.items.append(_SlotFlowable(slot, BODY_W, BODY_H - 14 * mm))

    def letters(self) -> None:
        s = self.s
        self.items += [PageBreak(), Paragraph("4. Letters", s["h1"])]
        if not self.doc.letters:
            self.items.append(self.p("No letters have been issued on this case."))
            return
        rows: list[list[Any]] = [
            [self.p(h, "bold") for h in ("No.", "Date", "Letter", "To", "Subject")]
        ]
        for number, letter in enumerate(self.doc.letters, start=1):
            rows.append(
                [
                    self.p(f"L{number}", "plain"),
                    self.p(letter.date, "plain"),
                    self.p(letter.label, "plain"),
                    self.p(letter.recipient, "plain"),
                    self.p(letter.subject, "plain"),
                ]
            )
        self.items.append(_table(rows, [12 * mm, 22 * mm, 45 * mm, 35 * mm, BODY_W - 114 * mm]))
        for number, letter in enumerate(self.doc.letters, start=1):
            pages = _pdf_pages(letter.pdf)
            if pages:
                self.included_pdf(f"Letter L{number}: {letter.label} ({letter.date})", pages)

    def exhibits(self) -> None:
        s = self.s
        self.items += [PageBreak(), Paragraph("5. Exhibits", s["h1"])]
        if not self.doc.exhibits:
            self.items.append(self.p("No evidence has been added to this case."))
            return
        # A copy for a recipient lists withheld exhibits in the manifest and section 7 only.
        shown = [
            e for e in self.doc.exhibits if not (self.doc.for_sharing and e.kind == "withheld")
        ]
        pages = {e.number: _pdf_pages(e.data) for e in shown if e.kind == "pdf"}
        # Exhibits with nothing to show on paper are listed together, not a page each.
        listed = [
            e
            for e in shown
            if e.kind in ("withheld", "other") or (e.kind == "pdf" and not pages[e.number])
        ]
        printed = [e for e in shown if e not in listed]
        self.items.append(
            self.p(
                f"{len(printed)} exhibit(s) follow, each starting on a new page. Their "
                "SHA-256 fingerprints are listed in the manifest at the end."
            )
        )
        if listed:
            rows: list[list[Any]] = [[self.p(h, "bold") for h in ("Exhibit", "Not shown because")]]
            for exhibit in listed:
                if exhibit.kind == "withheld":
                    why = exhibit.withheld_reason or "Withheld."
                elif exhibit.kind == "pdf":
                    why = "This PDF could not be opened, so it is listed but not included."
                else:
                    why = "This kind of file cannot be shown on paper."
                what = " · ".join((exhibit.description, *exhibit.details))
                rows.append(
                    [
                        self.p(f"{exhibit.heading}\n{what}", "small"),
                        self.p(why, "plain"),
                    ]
                )
            self.items += [Spacer(1, 2 * mm), _table(rows, [80 * mm, BODY_W - 80 * mm])]
        for index, exhibit in enumerate(printed):
            heading = exhibit.heading
            head: list[Flowable] = [
                Paragraph(esc(heading), s["h2"]),
                Paragraph(esc(" · ".join((exhibit.description, *exhibit.details))), s["small"]),
                Spacer(1, 2 * mm),
            ]
            # The first exhibit may start below the section's heading; the others start a page.
            self.items.append(CondPageBreak(BODY_H * 0.6) if index == 0 else PageBreak())
            kind = exhibit.kind
            if kind == "pdf":
                found = pages[exhibit.number] or []
                self.items += head
                for number, page in enumerate(found, start=1):
                    if number > 1:
                        self.items.append(PageBreak())
                        self.items.append(
                            Paragraph(
                                esc(f"Exhibit {exhibit.number}, page {number} of {len(found)}"),
                                s["h2"],
                            )
                        )
                    slot = _Slot(page)
                    self.slots.append(slot)
                    self.items.append(_SlotFlowable(slot, BODY_W, BODY_H - 24 * mm))
            elif kind == "image":
                reader = _exhibit_reader(exhibit.data)
                assert reader is not None
                self.items += _image_flowables(exhibit, reader, head, s)
            else:
                text = exhibit.data.decode("utf-8", errors="replace")
                self.items += head
                self.items += _text_flowables(text, s["plain"])

    def manifest(self) -> None:
        s = self.s
        self.items += [PageBreak(), Paragraph("6. Manifest", s["h1"])]
        self.items.append(
            self.p(
                "Each exhibit's SHA-256 fingerprint, taken when it was stored. Anyone can "
                "check that an original file is unchanged by computing its SHA-256 and "
                "comparing it with this list."
            )
        )
        rows: list[list[Any]] = [
            [self.p(h, "bold") for h in ("No.", "File", "SHA-256 of the original")]
        ]
        for exhibit in self.doc.exhibits:
            shown = ""
            if self.doc.for_sharing and exhibit.shown_sha256 and exhibit.kind != "withheld":
                shown = f"\nCopy shown: {exhibit.shown_sha256}"
            name = exhibit.original_name or f"Exhibit {exhibit.number}, added {exhibit.added_on}"
            if self.doc.for_sharing and exhibit.kind == "withheld":
                name += "\nWithheld from this copy (section 7)"
            rows.append(
                [
                    self.p(str(exhibit.number), "plain"),
                    self.p(f"{name}\n{exhibit.description}", "small"),
                    Paragraph(esc(exhibit.sha256 + shown), self.s["small"]),
                ]
            )
        table = _table(rows, [12 * mm, 60 * mm, BODY_W - 72 * mm])
        self.items.append(table)

    def withheld(self) -> None:
        """What a copy for a recipient leaves out, and why (none for the complete file)."""
        doc = self.doc
        if not (doc.for_sharing or doc.withheld):
            return
        s = self.s
        self.items += [PageBreak(), Paragraph("7. Withheld from this copy", s["h1"])]
        if not doc.withheld:
            self.items.append(self.p("Nothing was withheld from this copy."))
            return
        rows: list[list[Any]] = [[self.p("What", "bold"), self.p("Why", "bold")]]
        rows += [[self.p(w.what, "small"), self.p(w.why, "small")] for w in doc.withheld]
        self.items.append(_table(rows, [75 * mm, BODY_W - 75 * mm]))


def render_bundle(doc: BundleDocument, progress: Callable[[str], None] | None = None) -> bytes:
    """The case file as PDF bytes."""
    story = _Story(doc)
    story.cover()
    story.summary()
    story.people()
    story.chronology()
    story.letters()
    story.exhibits()
    story.manifest()
    story.withheld()
    if progress:
        progress("Laying out the pages")
    pdf = build_report(story.items, _page(doc))
    if not story.slots:
        return sanitise_pdf(pdf)
    if progress:
        progress("Including PDF pages")
    with pikepdf.open(io.BytesIO(pdf)) as book:
        _place_pages(book, story.slots)
        result = io.BytesIO()
        book.save(result)
    # Pages merged in from exhibits can bring links, scripts and actions with them.
    return sanitise_pdf(result.getvalue())


def _place_pages(book: pikepdf.Pdf, slots: list[_Slot]) -> None:
    """Draw each included page into its slot.

    qpdf places a page as a form XObject without parsing its drawing operators, so a
    long exhibit costs about the same per page as a short one. Each source file is made
    inert first, so a web link in an exhibit arrives as its printed address.
    """
    sources: dict[int, pikepdf.Pdf | None] = {}
    try:
        for slot in slots:
            if not slot.page:
                continue
            reader = slot.source.pdf
            if id(reader) not in sources:
                try:
                    inert = sanitise_pdf(reader.stream.getvalue())
                    sources[id(reader)] = pikepdf.open(io.BytesIO(inert))
                except pikepdf.PdfError:
                    # qpdf cannot read it (an exhibit stored before intake checked with
                    # qpdf): its slots stay as empty frames rather than stop the bundle.
                    sources[id(reader)] = None
            source = sources[id(reader)]
            if source is None:
                continue
            page = source.pages[slot.source.page_number]
            x0, y0, x1, y1 = (float(v) for v in page.mediabox)
            src_w, src_h = abs(x1 - x0), abs(y1 - y0)
            if int(page.obj.get("/Rotate", 0)) % 180:
                src_w, src_h = src_h, src_w
            scale = min(slot.w / src_w, slot.h / src_h)
            left = slot.x + (slot.w - src_w * scale) / 2
            top = slot.y + slot.h
            book.pages[slot.page - 1].add_overlay(
                page,
                pikepdf.Rectangle(left, top - src_h * scale, left + src_w * scale, top),
            )
    finally:
        for opened in sources.values():
            if opened is not None:
                opened.close()
