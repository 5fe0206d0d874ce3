"""Names in every script a school meets, and the typography of the printed documents,
read back out of the PDFs (pdftotext, pdffonts, pypdf) and the Word copies."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from PIL import Image
from pypdf import PdfReader

from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.pdf import fonts
from app.pdf.bundle import BundleDocument, BundleExhibit, render_bundle
from app.pdf.leaflet import _render
from app.services.casebook import Services, open_casebook
from app.services.context import resources_dir
from app.services.demo import DEMO_SCHOOL_PROFILE

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

# name, the font it must print in, and a piece of it pdftotext must give back
NAMES = {
    "arabic": ("محمد عبد الله", "NotoNaskhArabic", "محمد"),
    "urdu": ("عائشہ خان", "NotoNaskhArabic", "عائشہ"),
    "bengali": ("আয়েশা রহমান", "NotoSansBengali", "রহমান"),
    "tamil": ("தமிழ்செல்வி இராமன்", "NotoSansTamil", "இராம"),
    "gurmukhi": ("ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", "NotoSansGurmukhi", "ਗੁਰ"),
    "gujarati": ("પ્રિયા પટેલ", "NotoSansGujarati", "પટેલ"),
    "devanagari": ("प्रिया शर्मा", "NotoSansDevanagari", "या"),
    "chinese": ("王小明", "NotoSansCJK", "王小明"),
    # Hangul (KS X 1001), kana and JIS X 0208 kanji not in the Chinese sets (辺, 畑).
    "korean": ("김민준", "NotoSansCJK", "김민준"),
    "japanese": ("渡辺 さくら", "NotoSansCJK", "渡辺"),
    "japanese-kanji": ("畑中 陽菜", "NotoSansCJK", "畑中"),
    "greek": ("Γιώργος Παπαδόπουλος", "NotoSans-", "Γιώργος Παπαδόπουλος"),
    "cyrillic": ("Олена Коваленко", "NotoSans-", "Олена Коваленко"),
}


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=lambda: NOW)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def _case(services: Services, name: str) -> int:
    case = services.cases.open_case(
        CaseDraft(
            title="Post about staff",
            categories=frozenset({Category.ABUSIVE}),
            platform="Facebook",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="Eccleston Parents Chat",
            summary="A summary.",
        )
    )
    person = services.people.add_person(
        PersonDraft(
            name=name,
            kind=PersonKind.PARENT,
            address_lines=("12 Example Close", "Eccleston", "St Helens"),
            postcode="WA10 5AA",
        )
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    return case.id


def _run(args: list[str], data: bytes, tmp_path: Path, name: str = "doc.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    command = [*args, str(path), "-"] if args[0] == "pdftotext" else [*args, str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _fonts_of(pdf: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """(font name, embedded yes/no) for each font pdffonts lists."""
    out = _run(["pdffonts"], pdf, tmp_path, "fonts.pdf")
    rows = []
    for line in out.splitlines()[2:]:
        cells = line.split()
        rows.append((cells[0], cells[-5]))
    return rows


def _assert_fonts_embedded_and_distinct(pdf: bytes, tmp_path: Path) -> None:
    rows = _fonts_of(pdf, tmp_path)
    assert rows, "no fonts listed"
    assert all(embedded == "yes" for _, embedded in rows), rows
    tags = [name.split("+", 1)[0] for name, _ in rows]
    assert all(re.fullmatch(r"[A-Z]{6}", t) for t in tags), rows
    assert len(set(tags)) == len(tags), rows  # one distinct subset tag per font


@pytest.mark.parametrize("script", list(NAMES))
def test_a_name_prints_in_its_own_script(services: Services, tmp_path: Path, script: str) -> None:
    name, font, piece = NAMES[script]
    case_id = _case(services, f"Mrs {name}")
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    pdf = services.letters.letter_pdf(issued.id)
    text = unicodedata.normalize("NFKC", _run(["pdftotext"], pdf, tmp_path))
    assert piece in text
    used = [n for n, _ in _fonts_of(pdf, tmp_path)]
    assert any(font in n for n in used), used
    _assert_fonts_embedded_and_distinct(pdf, tmp_path)

    # The Word copy names the same font for the name's run, right to left where it reads so.
    word = Document(io.BytesIO(services.letters.letter_docx(issued.id)))
    runs = [r for p in word.paragraphs for r in p.runs if name.split()[0] in r.text]
    assert runs, "the salutation's name is not in the Word copy"
    family = fonts.WORD_FAMILIES[fonts.runs(name)[0][0]]
    for run in runs:
        r_fonts = run._r.rPr.find(qn("w:rFonts")) if run._r.rPr is not None else None
        if family == "Noto Sans":
            assert word.styles["Normal"].font.name == "Noto Sans"
        else:
            assert r_fonts is not None and r_fonts.get(qn("w:cs")) == family
        if script in ("arabic", "urdu"):
            assert run._r.rPr.find(qn("w:rtl")) is not None


def _embedded_outlines(pdf: bytes, font: str) -> list[int]:
    """The contour count of each glyph (bar .notdef) of the embedded fonts named ``font``."""
    from fontTools.ttLib import TTFont

    counts: list[int] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            entry = ref.get_object()
            if font not in entry["/BaseFont"]:
                continue
            data = entry["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
            embedded = TTFont(io.BytesIO(data))
            glyphs = embedded["glyf"]
            counts += [glyphs[g].numberOfContours for g in embedded.getGlyphOrder()[1:]]
    return counts


@pytest.mark.parametrize("script", ["chinese", "korean", "japanese", "japanese-kanji"])
def test_a_cjk_name_is_drawn_with_real_glyphs(services: Services, script: str) -> None:
    # Each of the name's characters has its own outline in the embedded subset: none is
    # drawn as the empty .notdef box.
    name = NAMES[script][0]
    case_id = _case(services, name)
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    counts = _embedded_outlines(services.letters.letter_pdf(issued.id), "NotoSansCJK")
    assert len(counts) >= len(set(name.replace(" ", ""))), counts
    assert all(n > 0 for n in counts), counts


def test_arabic_is_joined_and_right_to_left(tmp_path: Path) -> None:
    fonts.register_fonts(resources_dir() / "fonts")
    from app.pdf.common import _pieces

    # Words of a right-to-left stretch are drawn last word first; a comma after it stays
    # right, on the English side (tests/unit/test_right_to_left.py reads whole documents).
    drawn = [str(t) for _, t, _ in _pieces("Dear محمد عبد الله,", "CasebookSans", 10)]

    def shaped(word: str) -> str:
        return str(_pieces(word, "CasebookSans", 10)[0][1])

    assert drawn == ["Dear", " ", shaped("الله"), " ", shaped("عبد"), " ", shaped("محمد"), ","]

    pieces = _pieces("محمد", "CasebookSans", 10)
    shaped = pieces[0][1]
    # HarfBuzz gave joined forms (presentation forms of meem, hah, meem, dal), drawn
    # left to right: final dal first.
    assert unicodedata.normalize("NFKC", str(shaped)) == "دمحم"
    assert str(shaped) != "دمحم"


def test_a_rare_character_stops_the_letter_and_names_it(services: Services) -> None:
    case_id = _case(services, "Li \U0002000b")
    prepared = services.letters.prepare(case_id, LetterKind.REMOVAL)
    assert prepared.unprintable.startswith("The name of Li \U0002000b has ‘\U0002000b’")
    with pytest.raises(ValidationError):
        services.letters.issue(case_id, LetterKind.REMOVAL)
    assert services.letters.list_letters(case_id) == []


def test_letter_metadata_language_title_and_its_own_date(
    services: Services, tmp_path: Path
) -> None:
    case_id = _case(services, "Zoë Łukasiewicz")
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    pdf = services.letters.letter_pdf(issued.id)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert reader.metadata is not None and "SM-2026-0001" in (reader.metadata.title or "")
    info = _run(["pdfinfo"], pdf, tmp_path)
    assert re.search(r"CreationDate:\s+Tue Nov 24 00:00:00 2026", info), info
    assert services.letters.letter_pdf(issued.id) == pdf


def test_phone_numbers_dates_and_references_do_not_break(
    services: Services, tmp_path: Path
) -> None:
    fonts.register_fonts(resources_dir() / "fonts")
    assert fonts.keep_together("call 01744 000 000 by 1 December 2026, reference SM-2026-0001") == (
        "call 01744\u00a0000\u00a0000 by 1\u00a0December\u00a02026, reference\u00a0SM-2026-0001"
    )
    case_id = _case(services, "Zoë Łukasiewicz")
    pdf = services.letters.prepare(case_id, LetterKind.REMOVAL).pdf
    lines = _run(["pdftotext"], pdf, tmp_path).splitlines()
    assert any("01744\u00a0000\u00a0000" in line or "01744 000 000" in line for line in lines)
    assert not any(re.search(r"01744( 000)?\s*$", line) for line in lines)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


def _bundle(exhibits: tuple[BundleExhibit, ...]) -> BundleDocument:
    return BundleDocument(
        reference="SM-2026-0001",
        title="Post",
        school="Eccleston Lane Ends Primary School",
        generated_on="24 November 2026",
        generated_by="Head Teacher",
        for_sharing=False,
        status="Open",
        summary="A summary.",
        facts=(),
        standards=(),
        code_title="Code",
        code_version="1",
        people=(),
        events=(),
        letters=(),
        exhibits=exhibits,
    )


def _exhibit(number: int, data: bytes, content_type: str, withheld: str = "") -> BundleExhibit:
    return BundleExhibit(
        number=number,
        original_name=f"file{number}",
        description="A file",
        sha256="0" * 64,
        shown_sha256="",
        content_type=content_type,
        data=b"" if withheld else data,
        withheld_reason=withheld,
    )


def test_a_tall_screenshot_runs_over_pages_at_a_readable_scale(tmp_path: Path) -> None:
    fonts.register_fonts(resources_dir() / "fonts")
    pdf = render_bundle(_bundle((_exhibit(1, _png(1080, 9000), "image/png"),)))
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]
    holding = [i for i, p in enumerate(pages) if "Exhibit 1" in p and "Manifest" not in p]
    # At the page's width (about 174 mm for 1080 px) 9000 px is about 1450 mm: 6+ pages.
    assert len(holding) >= 6
    assert sum("Exhibit 1 continues on the next page." in p for p in pages) >= 5
    assert sum("Exhibit 1, continued" in p for p in pages) >= 5
    _assert_fonts_embedded_and_distinct(pdf, tmp_path)


def test_withheld_exhibits_are_listed_together(tmp_path: Path) -> None:
    fonts.register_fonts(resources_dir() / "fonts")
    exhibits = (
        _exhibit(1, b"", "image/png", withheld="Safeguarding: not copied."),
        _exhibit(2, b"", "image/png", withheld="Safeguarding: not copied."),
        _exhibit(3, b"", "image/png", withheld="Third party."),
        _exhibit(4, b"A message", "text/plain"),
    )
    pdf = render_bundle(_bundle(exhibits))
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]
    section = [p for p in pages if "5. Exhibits" in p]
    assert len(section) == 1
    page = section[0]
    for number in (1, 2, 3, 4):
        assert f"Exhibit {number}: file{number}" in page  # all on the section's first page


LEAFLET_HEADINGS = (
    "Why the school has this Code",
    "The kinds of social media it covers",
    "The standards the school expects",
    "How to raise a concern with the school",
)


def test_no_heading_ends_a_page_of_the_leaflet(services: Services) -> None:
    from reportlab.lib.pagesizes import A4, A5
    from reportlab.lib.units import mm

    pdf, _ = services.letters.guidance_pdf()  # registers fonts and builds the document
    del pdf
    from app.pdf.documents import Branding, GuidanceDocument

    document = GuidanceDocument(
        branding=Branding(DEMO_SCHOOL_PROFILE),
        code=services.ctx.code,
        code_date_text="1 September 2026",
    )
    # The shipped sizes, and sizes at which a heading falls at the foot of a page.
    sizes = [(A4, 20, 10.5), (A5, 14, 8.5), (A4, 20, 11.0), (A5, 14, 9.1), (A5, 14, 7.5)]
    for size, margin, base in sizes:
        made = _render(document, size, margin * mm, base)
        for page in PdfReader(io.BytesIO(made)).pages:
            lines = [line.strip() for line in (page.extract_text() or "").splitlines()]
            body = [
                line
                for line in lines
                if line and "Code version" not in line and not line.startswith("Page ")
            ]
            assert body and body[-1] not in LEAFLET_HEADINGS, body[-3:]


def test_every_report_embeds_its_fonts(services: Services, tmp_path: Path) -> None:
    case_id = _case(services, "محمد عبد الله")
    services.letters.issue(case_id, LetterKind.REMOVAL)
    case_file = services.reports.case_file(case_id)
    _assert_fonts_embedded_and_distinct(case_file, tmp_path)
    assert "محمد" in unicodedata.normalize("NFKC", _run(["pdftotext"], case_file, tmp_path))
    report = services.reports.governors_report(datetime(2026, 1, 1).date(), NOW.date())
    _assert_fonts_embedded_and_distinct(services.reports.governors_pdf(report), tmp_path)
    leaflet, _ = services.letters.guidance_pdf(a5_booklet=True)
    _assert_fonts_embedded_and_distinct(leaflet, tmp_path)
    assert PdfReader(io.BytesIO(leaflet)).trailer["/Root"]["/Lang"] == "en-GB"


def test_the_booklet_reads_in_order_when_printed_on_the_short_edge(services: Services) -> None:
    from reportlab.lib.pagesizes import A4, landscape

    pdf, _ = services.letters.guidance_pdf(a5_booklet=True)
    reader = PdfReader(io.BytesIO(pdf))
    sheet_w, _ = landscape(A4)
    found: list[list[int]] = []
    for side in reader.pages:
        assert side.get("/Rotate", 0) == 0  # both sides upright: turned on the short edge
        assert abs(float(side.mediabox.width) - sheet_w) < 1
        numbers: list[tuple[float, int]] = []

        def visit(
            text: str, cm: Any, tm: Any, *_: object, into: list[tuple[float, int]] = numbers
        ) -> None:
            match = re.search(r"Page (\d+) of (\d+)", text)
            if match:
                into.append((tm[4] + cm[4], int(match.group(1))))

        side.extract_text(visitor_text=visit)
        found.append([n for _, n in sorted(numbers)])
    total = 4 * len(found) // 2
    # Sheet 1 front: last page | page 1; back: page 2 | last but one (blank pages unnumbered).
    expected = []
    for sheet in range(len(found) // 2):
        expected += [
            [total - 2 * sheet, 2 * sheet + 1],
            [2 * sheet + 2, total - 1 - 2 * sheet],
        ]
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages == len(expected)
    for shown, wanted in zip(found, expected, strict=True):
        assert shown == [n for n in wanted if n <= max(max(f) for f in found if f)]


def test_a_text_exhibit_in_other_scripts_prints_in_their_fonts(tmp_path: Path) -> None:
    fonts.register_fonts(resources_dir() / "fonts")
    chat = "Mum: محمد عبد الله said hello\nআয়েশা রহমান replied 王小明\n\nplain line"
    pdf = render_bundle(_bundle((_exhibit(1, chat.encode(), "text/plain"),)))
    used = {name.split("+")[1] for name, _ in _fonts_of(pdf, tmp_path)}
    assert {"NotoNaskhArabic-Regular", "NotoSansBengali-Regular"} <= used
    text = unicodedata.normalize("NFKC", _run(["pdftotext"], pdf, tmp_path))
    assert "王小明" in text and "محمد" in text and "plain line" in text


# In a fresh process (this one may have registered every face): a letter-like document,
# then <b> inside the italic quote style, the only way a paragraph asks for bold italic.
BOLD_ITALIC_ON_FIRST_USE = """
import io, json, sys
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import SimpleDocTemplate
from app.pdf import fonts
from app.pdf.common import Paragraph, styles
from app.services.context import resources_dir
fonts.register_fonts(resources_dir() / "fonts")
s = styles()
def pdf(paragraphs, path):
    out = io.BytesIO()
    SimpleDocTemplate(out).build(paragraphs)
    open(path, "wb").write(out.getvalue())
registered = lambda: fonts.BOLD_ITALIC in pdfmetrics.getRegisteredFontNames()
pdf([Paragraph("Dear Ms Łukasiewicz", s["body"]), Paragraph("<b>Head</b>", s["bold"]),
     Paragraph(fonts.markup("The Code’s own words"), s["quote"])], sys.argv[1])
before = registered()
pdf([Paragraph("Quoted, <b>and bold in the quote</b>", s["quote"])], sys.argv[2])
print(json.dumps({"registered after the letter": before, "after bold italic": registered()}))
"""


def test_the_bold_italic_face_is_read_only_when_a_paragraph_uses_it(tmp_path: Path) -> None:
    """Reading Noto Sans Bold Italic cost every letter's process about 5 ms, and no letter
    uses it: it is registered when a paragraph first asks for it, and prints as before."""
    plain, mixed = tmp_path / "plain.pdf", tmp_path / "mixed.pdf"
    done = subprocess.run(
        [sys.executable, "-c", BOLD_ITALIC_ON_FIRST_USE, str(plain), str(mixed)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "registered after the letter": False,
        "after bold italic": True,
    }
    printed = {
        # Embedded subsets only (reportlab's page canvas names Helvetica, unembedded).
        path.name: sorted(
            n.split("+", 1)[1] for n, _ in _fonts_of(path.read_bytes(), tmp_path) if "+" in n
        )
        for path in (plain, mixed)
    }
    assert printed == {
        "plain.pdf": ["NotoSans-Bold", "NotoSans-Italic", "NotoSans-Regular"],
        "mixed.pdf": ["NotoSans-BoldItalic", "NotoSans-Italic"],
    }
