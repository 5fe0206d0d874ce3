"""The Word copy of a letter as the PDF (its fonts embedded, the date block and footer in the
PDF's places, opened in LibreOffice on a machine without Noto), and the leaflet and booklet
as printed: their own date, title and language, and the booklet's page order for short-edge
duplex, read back from each half of each printed side."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from app.domain.categories import Category
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.pdf.docx_fonts import deobfuscate
from app.services.casebook import Services, open_casebook
from app.services.context import resources_dir
from app.services.demo import DEMO_SCHOOL_PROFILE

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CODE_TEXT = (resources_dir() / "code_of_conduct" / "code_of_conduct_social_media.txt").read_text(
    encoding="utf-8"
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(tmp_path: Path, clock: Clock) -> Iterator[Services]:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=clock)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def test_the_leaflet_is_dated_by_the_code_it_prints(services: Services, clock: Clock) -> None:
    first, _ = services.letters.guidance_pdf()
    booklet, _ = services.letters.guidance_pdf(a5_booklet=True)
    # Printed again, on another day: the same bytes.
    clock.now = NOW + timedelta(days=3)
    assert services.letters.guidance_pdf()[0] == first
    assert services.letters.guidance_pdf(a5_booklet=True)[0] == booklet
    in_force = services.ctx.code.in_force_from.replace("-", "")
    for pdf in (first, booklet):
        info = PdfReader(io.BytesIO(pdf))
        assert info.metadata["/CreationDate"].startswith(f"D:{in_force}")
        assert info.metadata.title == (
            "A guide for parents, carers and visitors — "
            "Parents, Carers and Visitors Code of Conduct: Use of Social Media"
        )
        assert info.trailer["/Root"]["/Lang"] == "en-GB"
    # A revised Code gives a leaflet of its own date, which says so.
    effective = NOW.date() + timedelta(days=7)
    services.code.adopt(CODE_TEXT, "code-2027.txt", "1.1", effective)
    clock.now = NOW + timedelta(days=8)
    services.code.refresh()
    revised, _ = services.letters.guidance_pdf()
    metadata = PdfReader(io.BytesIO(revised)).metadata
    assert metadata["/CreationDate"].startswith(f"D:{effective:%Y%m%d}")
    assert "Code version 1.1 (in force from 1 December 2026)" in _pdftotext(revised)


def _pdftotext(pdf: bytes, *crop: str) -> str:
    done = subprocess.run(
        ["pdftotext", *crop, "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


# ----- the Word copy -------------------------------------------------------------------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
LONG = "\n\n".join(["A paragraph of the school’s own words for this one letter. " * 8] * 4)


def _letter(services: Services, name: str, paragraph: str = "") -> int:
    case = services.cases.open_case(
        CaseDraft(
            title="Post about the school",
            categories=frozenset({Category.ABUSIVE}),
            platform="Facebook",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="Eccleston Parents Chat",
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
    return services.letters.issue(case.id, LetterKind.REMOVAL, paragraph=paragraph).id


def _embedded(docx: bytes) -> dict[tuple[str, str], TTFont]:
    """(family, embedRegular/embedBold/…) -> the font file inside the Word copy."""
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        table = ElementTree.fromstring(z.read("word/fontTable.xml"))
        rels = ElementTree.fromstring(z.read("word/_rels/fontTable.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        types = z.read("[Content_Types].xml").decode()
        settings = z.read("word/settings.xml").decode()
        assert "obfuscatedFont" in types and "embedTrueTypeFonts" in settings
        found = {}
        for font in table.findall(f"{W}font"):
            for embed in font:
                if not embed.tag.startswith(f"{W}embed"):
                    continue
                odttf = z.read("word/" + targets[embed.get(f"{R}id")])
                key = embed.get(f"{W}fontKey")
                assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", key)
                # Scrambled as Word scrambles it: not a font until the key is applied.
                assert odttf[:4] not in (b"\x00\x01\x00\x00", b"OTTO", b"true")
                data = deobfuscate(odttf, key)
                assert data[:4] == b"\x00\x01\x00\x00" and data[32:] == odttf[32:]
                found[(font.get(f"{W}name"), embed.tag[len(W) :])] = TTFont(io.BytesIO(data))
        return found


def test_the_word_copy_embeds_the_fonts_it_prints_in(services: Services) -> None:
    letter_id = _letter(services, "Mrs Zoë عائشہ Łukasiewicz")
    docx = services.letters.letter_docx(letter_id)
    fonts = _embedded(docx)
    assert set(fonts) == {
        ("Noto Sans", "embedRegular"),
        ("Noto Sans", "embedBold"),
        ("Noto Sans", "embedItalic"),  # the quotation of the Code
        ("Noto Naskh Arabic", "embedRegular"),
        ("Noto Naskh Arabic", "embedBold"),  # the name at the head of the address
    }
    for (family, _), font in fonts.items():
        assert font["name"].getDebugName(1) == family
    # Every character the letter prints is in the font it is printed in, and English can be
    # typed into the copy; the fonts are cut down to a fraction of their size.
    regular = fonts[("Noto Sans", "embedRegular")].getBestCmap()
    bold = fonts[("Noto Sans", "embedBold")].getBestCmap()
    arabic = fonts[("Noto Naskh Arabic", "embedBold")].getBestCmap()
    for char in "Łë“”·QZqz£€0123456789":
        assert ord(char) in regular, char
    assert all(ord(c) in bold for c in "Mrs Zoë Łukasiewicz")
    assert all(ord(c) in arabic for c in "عائشہ")
    assert len(fonts[("Noto Sans", "embedRegular")].getGlyphOrder()) < 600
    assert len(docx) < 40_000 + 150_000


def _footer_text(docx: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        names = sorted(n for n in z.namelist() if re.fullmatch(r"word/footer\d+\.xml", n))
        return [z.read(n).decode() for n in names]


def test_the_word_copy_numbers_pages_only_as_the_pdf_does(services: Services) -> None:
    short = services.letters.letter_docx(_letter(services, "Mrs Kathleen Whitfield"))
    for footer in _footer_text(short):
        assert "Our reference\u00a0SM-2026-0001" in footer  # kept on one line
        assert "PAGE" not in footer and "Page" not in footer
    long_id = _letter(services, "Mrs Kathleen Whitfield", LONG)
    assert len(PdfReader(io.BytesIO(services.letters.letter_pdf(long_id))).pages) == 2
    for footer in _footer_text(services.letters.letter_docx(long_id)):
        assert 'w:instr="PAGE"' in footer and 'w:instr="NUMPAGES"' in footer
        assert ">2<" in footer  # shown as "of 2" before Word counts the pages itself


def _soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        reason = (
            "LibreOffice is not installed (apt-get install libreoffice-writer-nogui): the "
            "test of the Word copy in a word processor did NOT run"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _words(pdf: Path) -> list[tuple[int, str, float, float, float, float]]:
    """(page, word, x min, y min, x max, y max) for every word pdftotext finds."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    for page, chunk in enumerate(html.split("<page ")[1:], start=1):
        for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<',
            chunk,
        ):
            x0, y0, x1, y1 = (float(m.group(i)) for i in range(1, 5))
            words.append((page, m.group(5), x0, y0, x1, y1))
    return words


def _where(
    words: list[tuple[int, str, float, float, float, float]], page: int, word: str
) -> list[tuple[float, float, float, float]]:
    return [w[2:] for w in words if w[0] == page and w[1] == word]


def test_the_word_copy_opens_in_libreoffice_as_the_pdf_without_noto_installed(
    services: Services, tmp_path: Path
) -> None:
    soffice = _soffice()
    # A font set without Noto: only DejaVu Sans (Debian's fonts-dejavu-core).
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if dejavu.exists():
        shutil.copy(dejavu, fonts)
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        f"<?xml version='1.0'?><fontconfig><dir>{fonts}</dir>"
        f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "HOME": str(tmp_path)}
    listed = subprocess.run(["fc-list"], env=env, capture_output=True, text=True).stdout
    assert "Noto" not in listed

    short = _letter(services, "Mrs عائشہ خان")
    long = _letter(services, "Mrs Kathleen Whitfield", LONG)
    for name, letter_id in (("short", short), ("long", long)):
        (tmp_path / f"{name}.pdf").write_bytes(services.letters.letter_pdf(letter_id))
        (tmp_path / f"{name}.docx").write_bytes(services.letters.letter_docx(letter_id))
    out = tmp_path / "converted"
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), str(tmp_path / "short.docx"),
         str(tmp_path / "long.docx")],
        env=env, capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    for name, pages in (("short", 1), ("long", 2)):
        ours, theirs = tmp_path / f"{name}.pdf", out / f"{name}.pdf"
        assert len(PdfReader(theirs).pages) == pages
        listed = subprocess.run(
            ["pdffonts", str(theirs)], capture_output=True, text=True, check=True
        ).stdout
        rows = [line.split() for line in listed.splitlines()[2:]]
        # Every font LibreOffice printed with came from the Word copy: no DejaVu fallback.
        assert rows and all(row[0].split("+")[-1].startswith("Noto") for row in rows), listed
        assert all(row[-5] == "yes" for row in rows), listed
        if name == "short":
            assert {r[0].split("+")[-1] for r in rows} >= {
                "NotoSans-Regular", "NotoSans-Bold", "NotoNaskhArabic-Bold"
            }  # fmt: skip
        a, b = _words(ours), _words(theirs)
        # The date block and the footer sit where the PDF has them (within 1 mm).
        for page, word in (
            (1, "Date"), (1, "November"), (1, "reference"), (1, "confidential"),
            (pages, "Page"), (pages, "Private"),
        ):  # fmt: skip
            if word == "Page" and pages == 1:
                assert not _where(b, 1, "Page")  # no "Page 1 of 1"
                continue
            # Above the body (102 mm from the top) or in the footer, not in the letter's text.
            mine, word_processor = (
                [w for w in _where(words, page, word) if w[1] < 289 or w[1] > 780]
                for words in (a, b)
            )
            assert mine and len(mine) == len(word_processor), (word, mine, word_processor)
            for m, w in zip(mine, word_processor, strict=True):
                assert abs(m[1] - w[1]) < 2.9 and abs(m[2] - w[2]) < 2.9, (word, m, w)


# ----- the A5 booklet -------------------------------------------------------------------------


def _halves(pdf: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """The text of the left and right half of each printed side, read back with pdftotext."""
    path = tmp_path / "sides.pdf"
    path.write_bytes(pdf)
    sides = []
    for number, page in enumerate(PdfReader(path).pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert page.get("/Rotate", 0) == 0  # every side upright: turned on the short edge
        assert width > height  # an A4 sheet on its side
        texts = []
        for left in (0, width / 2):
            crop = ["-f", str(number), "-l", str(number), "-x", str(int(left)), "-y", "0",
                    "-W", str(int(width / 2)), "-H", str(int(height))]  # fmt: skip
            done = subprocess.run(
                ["pdftotext", *crop, str(path), "-"], capture_output=True, check=True
            )
            texts.append(done.stdout.decode("utf-8"))
        sides.append((texts[0], texts[1]))
    return sides


@pytest.mark.parametrize("pages", [3, 4, 6, 8])
def test_the_booklet_puts_each_page_where_the_folded_sheets_read_in_order(
    tmp_path: Path, pages: int
) -> None:
    """Sheet 1 front: last page | page 1; back: page 2 | last but one; and so inwards.

    Printed double-sided and turned on the short edge, the back of the front's right half
    is the back's left half, both upright: folded, page 1 is the cover, 2 and 3 face each
    other inside, and the last page is the back cover.
    """
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfgen.canvas import Canvas

    from app.pdf.leaflet import _booklet

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A5)
    for n in range(1, pages + 1):
        canvas.setFont("Helvetica", 40)
        canvas.drawString(100, 300, f"Leaf {n}")
        canvas.showPage()
    canvas.save()
    sides = _halves(_booklet(out.getvalue()), tmp_path)
    total = 4 * ((pages + 3) // 4)
    assert len(sides) == total // 2
    for sheet in range(total // 4):
        front, back = sides[2 * sheet], sides[2 * sheet + 1]
        expected = [
            (total - 2 * sheet, 2 * sheet + 1),
            (2 * sheet + 2, total - 1 - 2 * sheet),
        ]
        for (left, right), (want_left, want_right) in zip((front, back), expected, strict=True):
            for text, want in ((left, want_left), (right, want_right)):
                found = re.findall(r"Leaf (\d+)", text)
                assert found == ([str(want)] if want <= pages else []), (sheet, text, want)


def test_the_leaflets_booklet_reads_from_its_cover(services: Services, tmp_path: Path) -> None:
    pdf, _ = services.letters.guidance_pdf(a5_booklet=True)
    sides = _halves(pdf, tmp_path)
    (back_cover, cover), (inside_left, inside_right) = sides[0], sides[1]
    assert "A guide for parents, carers and visitors" in cover and "Page 1 of 3" in cover
    assert back_cover.strip() == ""  # three pages: the back cover is left blank
    assert "Page 2 of 3" in inside_left and "Page 3 of 3" in inside_right
    assert "How to raise a concern with the school" in inside_right
