"""An editable Word (.docx) copy of a letter: the same words, fonts and layout as the PDF.

The first page is laid out as the PDF's: the letterhead and its rule, then the address in
the envelope window with the date and reference level with it on the right, each line at
the PDF's height (a table with rows and lines of exact heights, so Word and LibreOffice
place them alike), and the body from the same point. The footer reads as the PDF's:
"Private and confidential · Our reference …", and "Page X of Y" on letters of more than
one page; later pages carry the PDF's "continued" line. Each run of text is in the Noto
family the PDF prints it in, and those fonts are embedded (see ``docx_fonts``), so a PC
without Noto shows the same letters; right-to-left runs are marked so Word lays them out
right to left.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor, Twips
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from reportlab.lib.units import mm

from app.pdf.common import Paragraph as PdfParagraph
from app.pdf.common import esc, fit_image, image_reader, parse_long_date, styles
from app.pdf.documents import LetterDocument
from app.pdf.docx_fonts import FontsUsed, embed_fonts
from app.pdf.fonts import BOLD, FACES, REGULAR, WORD_FAMILIES, keep_together, runs
from app.pdf.letter import (
    ADDRESS_AREA,
    ADDRESS_TOP,
    BODY_BOTTOM,
    BODY_TOP_FIRST,
    BODY_TOP_LATER,
    DATE_COLUMN_LEFT,
    FOOTER_Y,
    MARGIN_X,
    PAGE_W,
    layout_address,
    render_letter,
)

ACCENT = RGBColor(0x1F, 0x4E, 0x79)
MUTED = RGBColor(0x55, 0x55, 0x55)
BLACK = RGBColor(0, 0, 0)
LANGUAGE = "en-GB"
LETTERHEAD_TOP = 14 * mm
# Word and LibreOffice set a line of exact height with its baseline 80% of the way down.
_BASELINE = 0.8
_LOGO_COLUMN = 50 * mm  # the PDF keeps this much of the letterhead's width for the logo


def _pt(points: float) -> Emu:
    return Emu(round(points * 12700))


def _fonts(run_element: object, family: str, rtl: bool, complex_script: bool) -> None:
    """Name ``family`` for every kind of character in a run (Latin, East Asian, complex)."""
    r_pr = run_element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = r_pr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), family)
    if complex_script:
        r_pr.get_or_add_cs()
    if rtl:
        r_pr.get_or_add_rtl()


def add_text(
    para: Paragraph,
    text: str,
    *,
    used: FontsUsed,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    color: RGBColor | None = None,
) -> None:
    """Add ``text`` to a paragraph, one run per script, each in the PDF's font; the
    characters are noted in ``used`` so the fonts that print them are embedded."""
    for face, chunk in runs(keep_together(text)):
        used.add(face, bold, italic, chunk)
        run = para.add_run(chunk)
        run.bold = bold or None
        run.italic = italic or None
        if bold:
            # Bold for Arabic and the Indian scripts is a separate property in Word.
            run._r.get_or_add_rPr().get_or_add_bCs()
        if color is not None:
            run.font.color.rgb = color
        if size is not None:
            run.font.size = Pt(size)
            cs_size = OxmlElement("w:szCs")
            cs_size.set(qn("w:val"), str(round(size * 2)))
            run._r.get_or_add_rPr().get_or_add_sz().addnext(cs_size)
        if face != REGULAR:
            _fonts(run._r, WORD_FAMILIES[face], FACES[face].rtl, FACES[face].shaped)


def _field(para: Paragraph, instruction: str, size: float, color: RGBColor, shown: str) -> None:
    """A field Word fills in (PAGE, NUMPAGES), showing ``shown`` until Word updates it."""
    simple = OxmlElement("w:fldSimple")
    simple.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    r_pr = OxmlElement("w:rPr")
    size_el = OxmlElement("w:sz")
    size_el.set(qn("w:val"), str(int(size * 2)))
    r_pr.append(size_el)
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), str(color))
    r_pr.append(colour)
    run.append(r_pr)
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    simple.append(run)
    para._p.append(simple)


def _set_borders(element: object, tag: str, edges: dict[str, tuple[str, int, str]]) -> None:
    """Borders (style, width in eighths of a point, colour) on a table or a cell."""
    props = element  # a w:tblPr or w:tcPr
    borders = OxmlElement(tag)
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        style, width, colour = edges.get(edge, ("nil", 0, "auto"))
        if tag == "w:tcBorders" and edge.startswith("inside"):
            continue
        item = OxmlElement(f"w:{edge}")
        item.set(qn("w:val"), style)
        if style != "nil":
            item.set(qn("w:sz"), str(width))
            item.set(qn("w:space"), "0")
            item.set(qn("w:color"), colour)
        borders.append(item)
    props.append(borders)  # type: ignore[attr-defined]


def _twips(points: float) -> str:
    return str(max(0, round(points * 20)))


def _cell_margins(cell: _Cell, top: float = 0, left: float = 0, right: float = 0) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    margins = OxmlElement("w:tcMar")
    for edge, value in (("top", top), ("left", left), ("bottom", 0), ("right", right)):
        item = OxmlElement(f"w:{edge}")
        item.set(qn("w:w"), _twips(value))
        item.set(qn("w:type"), "dxa")
        margins.append(item)
    tc_pr.append(margins)


def _table_layout(table: object, indent: float, widths: list[float]) -> None:
    """A fixed table: its columns exactly ``widths`` (points), ``indent`` from the margin."""
    tbl = table._tbl  # type: ignore[attr-defined]
    tbl_pr = tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    ind = OxmlElement("w:tblInd")
    ind.set(qn("w:w"), str(round(indent * 20)))
    ind.set(qn("w:type"), "dxa")
    tbl_pr.append(ind)
    margins = OxmlElement("w:tblCellMar")
    for edge in ("top", "left", "bottom", "right"):
        item = OxmlElement(f"w:{edge}")
        item.set(qn("w:w"), "0")
        item.set(qn("w:type"), "dxa")
        margins.append(item)
    tbl_pr.append(margins)
    _set_borders(tbl_pr, "w:tblBorders", {})
    for col, width in zip(tbl.tblGrid.gridCol_lst, widths, strict=True):
        col.w = _pt(width)


@dataclass(frozen=True)
class Line:
    """A paragraph set at the PDF's height: its first baseline in points from the top of
    the page, and its leading (``count`` lines of it where the text wraps)."""

    text: str
    size: float
    baseline: float
    bold: bool = False
    color: RGBColor = BLACK
    leading: float = 0.0  # 1.2 times the size unless given
    count: int = 1


_SPACES = re.compile(r"[ \t]+")


def _flowed(text: str) -> str:
    """Text as the PDF's paragraphs print it: runs of spaces set as one space."""
    return _SPACES.sub(" ", text)


def _exact(para: Paragraph, height: float, before: float = 0) -> None:
    fmt = para.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = _pt(height)
    fmt.space_before = _pt(max(before, 0))
    fmt.space_after = Pt(0)


def _set_lines(
    cell: _Cell, lines: list[Line], top: float, used: FontsUsed, align: WD_ALIGN_PARAGRAPH
) -> None:
    """Each line in its own paragraph of exact height, so its baseline falls where the
    PDF's does; ``top`` is where the cell starts on the page (points from the top)."""
    bottom = top
    for index, line in enumerate(lines):
        height = line.leading or line.size * 1.2
        line_top = line.baseline - _BASELINE * height
        para = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        para.alignment = align
        _exact(para, height, line_top - bottom)
        add_text(para, line.text, used=used, bold=line.bold, size=line.size, color=line.color)
        bottom = max(line_top, bottom) + height * line.count


# reportlab sets a paragraph's first baseline one ascent below its top (1.069 em in Noto).
_ASCENT = 1.069


def _letterhead(doc: LetterDocument) -> tuple[list[Line], float]:
    """The letterhead's lines and where its rule falls (points from the top), measured as
    ``letter.draw_letterhead`` lays them out."""
    st = styles()
    school, small = st["school"], st["small-right"]
    logo = image_reader(doc.branding.logo)
    width = PAGE_W - 2 * MARGIN_X - (_LOGO_COLUMN if logo is not None else 0)
    name = doc.branding.profile.name
    _, name_h = PdfParagraph(esc(name), school).wrap(width, 40 * mm)
    lines = [
        Line(
            name,
            school.fontSize,
            LETTERHEAD_TOP + _ASCENT * school.fontSize,
            bold=True,
            color=ACCENT,
            leading=school.leading,
            count=max(1, round(name_h / school.leading)),
        )
    ]
    y = LETTERHEAD_TOP + name_h + 1 * mm
    for text in _contact_lines(doc):
        _, h = PdfParagraph(esc(text), small).wrap(width, 20 * mm)
        lines.append(
            Line(
                text,
                small.fontSize,
                y + _ASCENT * small.fontSize,
                color=MUTED,
                leading=small.leading,
                count=max(1, round(h / small.leading)),
            )
        )
        y += h
    bottom = y
    if logo is not None:
        _, logo_h = fit_image(logo, 45 * mm, 22 * mm)
        bottom = max(bottom, LETTERHEAD_TOP + logo_h)
    return lines, min(bottom + 3 * mm, 42 * mm)


def _contact_lines(doc: LetterDocument) -> list[str]:
    profile = doc.branding.profile
    details = list(profile.address_lines())
    contact = [
        x
        for x in (
            profile.telephone and f"Telephone {profile.telephone}",
            profile.email,
            profile.website,
        )
        if x
    ]
    lines = [", ".join(details)] if details else []
    if contact:
        lines.append("  ·  ".join(contact))
    # The PDF prints these as paragraphs, which set a run of spaces as one.
    return [_flowed(line) for line in lines]


def page_count(doc: LetterDocument) -> int:
    """How many pages the letter's PDF has (the same document always gives the same PDF)."""
    return len(re.findall(rb"/Type /Page\b(?!s)", render_letter(doc)))


def _first_page(word: object, doc: LetterDocument, used: FontsUsed) -> None:
    """Letterhead, rule, address and date block, at the PDF's places on the first page."""
    logo = image_reader(doc.branding.logo)
    letterhead, rule = _letterhead(doc)
    left = ADDRESS_AREA.left
    right = PAGE_W - MARGIN_X
    logo_w = _LOGO_COLUMN - (left - MARGIN_X)
    widths = [
        logo_w,
        ADDRESS_AREA.right - left - logo_w,
        DATE_COLUMN_LEFT - ADDRESS_AREA.right,
        right - DATE_COLUMN_LEFT,
    ]
    table = word.add_table(rows=2, cols=4)  # type: ignore[attr-defined]
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    _table_layout(table, left - MARGIN_X, widths)
    head, body = table.rows
    for row, height in ((head, rule - LETTERHEAD_TOP), (body, BODY_TOP_FIRST - rule)):
        row.height = _pt(height)
        row.height_rule = WD_ROW_HEIGHT_RULE.EXACTLY
    # The letterhead: the logo on the left, the school's name and details on the right.
    if logo is not None and doc.branding.logo:
        logo_cell = head.cells[0]
        text_cell = head.cells[1].merge(head.cells[3])
        _cell_margins(logo_cell, left=MARGIN_X - left)
        w, h = fit_image(logo, 45 * mm, 22 * mm)
        picture = logo_cell.paragraphs[0]
        # Its line as tall as the picture (an exact height would cut the picture's top off).
        picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        picture.add_run().add_picture(io.BytesIO(doc.branding.logo), width=_pt(w), height=_pt(h))
        _cell_margins(text_cell, left=MARGIN_X + _LOGO_COLUMN - left - widths[0])
    else:
        text_cell = head.cells[0].merge(head.cells[3])
        _cell_margins(text_cell, left=MARGIN_X - left)
    _set_lines(text_cell, letterhead, LETTERHEAD_TOP, used, WD_ALIGN_PARAGRAPH.RIGHT)
    for cell in {id(c): c for c in head.cells}.values():
        tc_pr = cell._tc.get_or_add_tcPr()
        _set_borders(tc_pr, "w:tcBorders", {"bottom": ("single", 5, str(ACCENT))})

    # The address in the envelope window, laid out as the PDF lays it out.
    layout = layout_address(doc.recipient_name, doc.recipient_address, doc.branding)
    address_cell = body.cells[0].merge(body.cells[1])
    address = [
        Line(
            line.text,
            line.size,
            line.baseline,
            bold=line.font == BOLD,
            color=MUTED if index < 2 else BLACK,
            # The address lines are set 1.15 times their size apart, as the PDF sets them.
            leading=line.size * 1.15 if index >= 2 else 0.0,
        )
        for index, line in enumerate(layout.lines)
    ]
    _set_lines(address_cell, address, rule, used, WD_ALIGN_PARAGRAPH.LEFT)
    # The date and reference on the right, level with the top of the window.
    top = ADDRESS_TOP + 8.5  # the first label's baseline, as letter._first_page draws it
    dates = [
        Line("Date", 8.5, top, color=MUTED),
        Line(doc.date_text, 10.5, top + 12.5, bold=True),
        Line("Our reference", 8.5, top + 30.5, color=MUTED),
        Line(doc.reference, 10.5, top + 43, bold=True),
    ]
    _set_lines(body.cells[3], dates, rule, used, WD_ALIGN_PARAGRAPH.RIGHT)


def _right_tab(para: Paragraph, position: float) -> None:
    """One right-aligned tab stop at ``position``; the Header and Footer styles' own centre
    and right stops (at 8.25 and 16.5 cm) are cleared so the tab goes to it."""
    stops = para.paragraph_format.tab_stops
    for inherited in (Twips(4680), Twips(9360)):
        stops.add_tab_stop(inherited, WD_TAB_ALIGNMENT.CLEAR)
    stops.add_tab_stop(_pt(position), WD_TAB_ALIGNMENT.RIGHT)


def _header_footer(section: object, doc: LetterDocument, pages: int, used: FontsUsed) -> None:
    """The PDF's footer on every page, and its "continued" line at the top of later pages."""
    width = PAGE_W - 2 * MARGIN_X
    section.different_first_page_header_footer = True  # type: ignore[attr-defined]
    # The footer's line is 9 pt high, its baseline where the PDF's is.
    section.footer_distance = _pt(FOOTER_Y - (1 - _BASELINE) * 9)  # type: ignore[attr-defined]
    for footer in (section.footer, section.first_page_footer):  # type: ignore[attr-defined]
        para = footer.paragraphs[0]
        _exact(para, 9)
        _right_tab(para, width)
        add_text(
            para,
            f"Private and confidential  ·  Our reference {doc.reference}",
            used=used,
            size=7.5,
            color=MUTED,
        )
        if pages > 1:
            # As in the PDF: page numbers only on a letter of more than one page.
            add_text(para, "\tPage ", used=used, size=7.5, color=MUTED)
            _field(para, "PAGE", 7.5, MUTED, "1")
            add_text(para, " of ", used=used, size=7.5, color=MUTED)
            _field(para, "NUMPAGES", 7.5, MUTED, str(pages))
    # Later pages: "name · date · continued" and the school's name, 14 mm from the top;
    # the line ends where the body of a later page starts, as in the PDF.
    section.header_distance = _pt(LETTERHEAD_TOP - _BASELINE * 10)  # type: ignore[attr-defined]
    header = section.header.paragraphs[0]  # type: ignore[attr-defined]
    _exact(header, 10)
    header.paragraph_format.space_after = _pt(BODY_TOP_LATER - LETTERHEAD_TOP - 2)
    _right_tab(header, width)
    add_text(
        header,
        f"{doc.recipient_name}  ·  {doc.date_text}  ·  continued\t{doc.branding.profile.name}",
        used=used,
        size=8,
        color=MUTED,
    )
    # The first page has the letterhead instead: an empty header that takes no room.
    _exact(section.first_page_header.paragraphs[0], 1)  # type: ignore[attr-defined]


def _quote_bar(para: Paragraph) -> None:
    """The accent bar left of a quotation of the Code, as in the PDF."""
    p_pr = para._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    left = OxmlElement("w:left")
    left.set(qn("w:val"), "single")
    left.set(qn("w:sz"), "16")
    left.set(qn("w:space"), "11")
    left.set(qn("w:color"), str(ACCENT))
    borders.append(left)
    successors = ("w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc", "w:rPr")
    p_pr.insert_element_before(borders, *successors)


def render_docx(doc: LetterDocument) -> bytes:
    """The letter as .docx bytes (A4, address placed for a DL window envelope)."""
    used = FontsUsed()
    pages = page_count(doc)
    word = Document()
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = _pt(MARGIN_X)
    section.top_margin, section.bottom_margin = _pt(LETTERHEAD_TOP), _pt(BODY_BOTTOM)
    normal = word.styles["Normal"]
    normal.font.name = WORD_FAMILIES[REGULAR]
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(0)
    r_pr = normal.element.get_or_add_rPr()
    _fonts_normal = r_pr.find(qn("w:rFonts"))
    if _fonts_normal is not None:
        for attr in ("w:eastAsia", "w:cs"):
            _fonts_normal.set(qn(attr), WORD_FAMILIES[REGULAR])
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), LANGUAGE)
    r_pr.append(lang)

    _first_page(word, doc, used)
    st = styles()
    body = st["body"]
    # At least the PDF's leading; more where a script's letters are taller (Bengali, Tamil).
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.AT_LEAST
    normal.paragraph_format.line_spacing = _pt(body.leading)
    subject = word.add_paragraph()
    subject.paragraph_format.space_after = _pt(st["subject"].spaceAfter)
    subject.paragraph_format.keep_with_next = True
    add_text(subject, _flowed(doc.subject), used=used, bold=True)
    salutation = word.add_paragraph()
    salutation.paragraph_format.space_after = _pt(body.spaceAfter)
    add_text(salutation, _flowed(doc.salutation), used=used)
    for block in doc.blocks:
        para = word.add_paragraph()
        para.paragraph_format.space_after = _pt(body.spaceAfter)
        if block.quote:
            para.paragraph_format.left_indent = Mm(8 + 4)
            _quote_bar(para)
            para.paragraph_format.line_spacing = _pt(st["quote"].leading)
            add_text(para, _flowed(block.text), used=used, italic=True, size=10)
        else:
            add_text(para, _flowed(block.text), used=used)
    closing = word.add_paragraph()
    closing.paragraph_format.keep_with_next = True
    closing.paragraph_format.space_before = Mm(1)
    add_text(closing, doc.closing, used=used)
    if doc.branding.signature:
        sig = image_reader(doc.branding.signature)
        if sig is not None:
            w, h = fit_image(sig, 50, 16)
            picture = word.add_paragraph()
            picture.paragraph_format.keep_with_next = True
            picture.paragraph_format.space_before = Mm(1.5)
            picture.paragraph_format.space_after = Mm(1.5)
            picture.add_run().add_picture(
                io.BytesIO(doc.branding.signature), width=Mm(w), height=Mm(h)
            )
    else:
        gap = word.add_paragraph()
        gap.paragraph_format.space_before = Pt(36)
        gap.paragraph_format.keep_with_next = True
    signatory = word.add_paragraph()
    signatory.paragraph_format.keep_with_next = True
    add_text(signatory, doc.signatory, used=used, bold=True)
    add_text(word.add_paragraph(), doc.signatory_title, used=used)

    _header_footer(section, doc, pages, used)
    embed_fonts(word, used)

    props = word.core_properties
    props.title = doc.title
    props.author = doc.branding.profile.name
    props.subject = f"Letter about case {doc.reference}"
    props.language = LANGUAGE
    created = parse_long_date(doc.date_text)
    if created is not None:
        props.created = props.modified = datetime(created.year, created.month, created.day)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()
