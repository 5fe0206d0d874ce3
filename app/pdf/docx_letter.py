"""An editable Word (.docx) copy of a letter: the same words, fonts and layout as the PDF.

The address sits in the envelope window with the date and reference level with it on the
right, as in the PDF; every page has the footer "Private and confidential · Our reference
… · Page X of Y". Each run of text names the Noto family the PDF prints it in (Word shows
it where the family is installed, and substitutes a similar font where it is not), and
right-to-left runs are marked so Word lays them out right to left.
"""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from app.pdf.common import fit_image, image_reader, parse_long_date
from app.pdf.documents import LetterDocument
from app.pdf.fonts import FACES, REGULAR, WORD_FAMILIES, keep_together, runs

ACCENT = RGBColor(0x1F, 0x4E, 0x79)
MUTED = RGBColor(0x55, 0x55, 0x55)
LANGUAGE = "en-GB"


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
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    color: RGBColor | None = None,
) -> None:
    """Add ``text`` to a paragraph, one run per script, each in the PDF's font."""
    for face, chunk in runs(keep_together(text)):
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


def _field(para: Paragraph, instruction: str, size: float, color: RGBColor) -> None:
    """A field Word fills in (PAGE, NUMPAGES), shown as '1' until Word updates it."""
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
    text.text = "1"
    run.append(text)
    simple.append(run)
    para._p.append(simple)


def _no_borders(table: object) -> None:
    tbl_pr = table._tbl.tblPr  # type: ignore[attr-defined]
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


def _cell_paragraph(cell: _Cell, first: bool) -> Paragraph:
    return cell.paragraphs[0] if first else cell.add_paragraph()


def render_docx(doc: LetterDocument) -> bytes:
    """The letter as .docx bytes (A4, address placed for a DL window envelope)."""
    word = Document()
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(22)
    section.top_margin, section.bottom_margin = Mm(14), Mm(24)
    section.footer_distance = Mm(10)
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

    profile = doc.branding.profile
    logo = image_reader(doc.branding.logo)
    if logo is not None and doc.branding.logo:
        w, h = fit_image(logo, 45, 24)  # in millimetres
        word.add_paragraph().add_run().add_picture(
            io.BytesIO(doc.branding.logo), width=Mm(w), height=Mm(h)
        )
    head = word.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    add_text(head, profile.name, bold=True, size=14, color=ACCENT)
    contact = [", ".join(profile.address_lines())]
    extras = [
        x
        for x in (
            profile.telephone and f"Telephone {profile.telephone}",
            profile.email,
            profile.website,
        )
        if x
    ]
    if extras:
        contact.append("  ·  ".join(extras))
    for line in contact:
        para = word.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        add_text(para, line, size=8, color=MUTED)

    # The address block sits about 50 mm from the top of the page, inside the window, with
    # the date and reference level with it on the right, as in the PDF.
    spacer = word.add_paragraph()
    spacer.paragraph_format.space_before = Pt(40)
    table = word.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    _no_borders(table)
    left, right = table.rows[0].cells
    left.width, right.width = Mm(110), Mm(56)
    label = _cell_paragraph(left, True)
    label.paragraph_format.left_indent = Mm(3)
    label.paragraph_format.space_after = Pt(6)
    add_text(label, "PRIVATE AND CONFIDENTIAL", bold=True, size=8.5, color=MUTED)
    for index, line in enumerate((doc.recipient_name, *doc.recipient_address)):
        para = left.add_paragraph()
        para.paragraph_format.left_indent = Mm(3)
        add_text(para, line, bold=index == 0)
    first = True
    for caption, value in (("Date", doc.date_text), ("Our reference", doc.reference)):
        para = _cell_paragraph(right, first)
        first = False
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        add_text(para, caption, size=8.5, color=MUTED)
        para = right.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        para.paragraph_format.space_after = Pt(6)
        add_text(para, value, bold=True)

    subject = word.add_paragraph()
    subject.paragraph_format.space_before = Pt(36)
    subject.paragraph_format.space_after = Pt(10)
    subject.paragraph_format.keep_with_next = True
    add_text(subject, doc.subject, bold=True)
    salutation = word.add_paragraph()
    salutation.paragraph_format.space_after = Pt(8)
    add_text(salutation, doc.salutation)
    for block in doc.blocks:
        para = word.add_paragraph()
        para.paragraph_format.space_after = Pt(8)
        if block.quote:
            para.paragraph_format.left_indent = Mm(10)
            add_text(para, block.text, italic=True, size=10)
        else:
            add_text(para, block.text)
    closing = word.add_paragraph()
    closing.paragraph_format.keep_with_next = True
    add_text(closing, doc.closing)
    if doc.branding.signature:
        sig = image_reader(doc.branding.signature)
        if sig is not None:
            w, h = fit_image(sig, 50, 16)
            picture = word.add_paragraph()
            picture.paragraph_format.keep_with_next = True
            picture.add_run().add_picture(
                io.BytesIO(doc.branding.signature), width=Mm(w), height=Mm(h)
            )
    else:
        gap = word.add_paragraph()
        gap.paragraph_format.space_before = Pt(36)
        gap.paragraph_format.keep_with_next = True
    signatory = word.add_paragraph()
    signatory.paragraph_format.keep_with_next = True
    add_text(signatory, doc.signatory, bold=True)
    add_text(word.add_paragraph(), doc.signatory_title)

    # The footer of every page, as in the PDF.
    footer = section.footer.paragraphs[0]
    add_text(
        footer,
        f"Private and confidential  ·  Our reference {doc.reference}  ·  Page ",
        size=7.5,
        color=MUTED,
    )
    _field(footer, "PAGE", 7.5, MUTED)
    add_text(footer, " of ", size=7.5, color=MUTED)
    _field(footer, "NUMPAGES", 7.5, MUTED)

    props = word.core_properties
    props.title = doc.title
    props.author = profile.name
    props.subject = f"Letter about case {doc.reference}"
    props.language = LANGUAGE
    created = parse_long_date(doc.date_text)
    if created is not None:
        props.created = props.modified = datetime(created.year, created.month, created.day)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()
