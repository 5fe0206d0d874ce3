"""An editable Word (.docx) copy of a letter, with the same words as the PDF."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt, RGBColor

from app.pdf.common import fit_image, image_reader
from app.pdf.documents import LetterDocument

ACCENT = RGBColor(0x1F, 0x4E, 0x79)
MUTED = RGBColor(0x55, 0x55, 0x55)


def render_docx(doc: LetterDocument) -> bytes:
    """The letter as .docx bytes (A4, address placed for a DL window envelope)."""
    word = Document()
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(22)
    section.top_margin, section.bottom_margin = Mm(14), Mm(20)
    normal = word.styles["Normal"]
    normal.font.name = "DejaVu Sans"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(0)

    profile = doc.branding.profile
    logo = image_reader(doc.branding.logo)
    if logo is not None and doc.branding.logo:
        w, h = fit_image(logo, 45, 24)  # in millimetres
        word.add_paragraph().add_run().add_picture(
            io.BytesIO(doc.branding.logo), width=Mm(w), height=Mm(h)
        )
    head = word.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = head.add_run(profile.name)
    run.bold = True
    run.font.size = Pt(14)
    run.font.color.rgb = ACCENT
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
        small = para.add_run(line)
        small.font.size = Pt(8)
        small.font.color.rgb = MUTED

    # The address block sits about 50 mm from the top of the page, inside the window.
    spacer = word.add_paragraph()
    spacer.paragraph_format.space_before = Pt(56)
    label = word.add_paragraph()
    label_run = label.add_run("PRIVATE AND CONFIDENTIAL")
    label_run.bold = True
    label_run.font.size = Pt(8.5)
    label_run.font.color.rgb = MUTED
    label.paragraph_format.left_indent = Mm(3)
    for index, line in enumerate((doc.recipient_name, *doc.recipient_address)):
        para = word.add_paragraph()
        para.paragraph_format.left_indent = Mm(3)
        r = para.add_run(line)
        r.bold = index == 0

    meta = word.add_paragraph()
    meta.paragraph_format.space_before = Pt(24)
    meta.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    meta.add_run(f"Date: {doc.date_text}\nOur reference: {doc.reference}")

    subject = word.add_paragraph()
    subject.paragraph_format.space_before = Pt(12)
    subject.paragraph_format.space_after = Pt(10)
    subject.add_run(doc.subject).bold = True
    word.add_paragraph(doc.salutation).paragraph_format.space_after = Pt(8)
    for block in doc.blocks:
        para = word.add_paragraph()
        para.paragraph_format.space_after = Pt(8)
        if block.quote:
            para.paragraph_format.left_indent = Mm(10)
            para.add_run(block.text).italic = True
        else:
            para.add_run(block.text)
    word.add_paragraph(doc.closing)
    if doc.branding.signature:
        sig = image_reader(doc.branding.signature)
        if sig is not None:
            w, h = fit_image(sig, 50, 16)
            word.add_paragraph().add_run().add_picture(
                io.BytesIO(doc.branding.signature), width=Mm(w), height=Mm(h)
            )
    else:
        word.add_paragraph().paragraph_format.space_before = Pt(36)
    word.add_paragraph().add_run(doc.signatory).bold = True
    word.add_paragraph(doc.signatory_title)

    props = word.core_properties
    props.title = doc.title
    props.author = profile.name
    props.subject = f"Letter about case {doc.reference}"
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()
