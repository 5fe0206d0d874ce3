"""Arabic and Urdu text that wraps over several lines, mixed with English and digits, read
back out of real documents with each glyph's position (pypdfium2) and with pdftotext.

Each right-to-left word is followed by its own number (11, 12, ...), so the order the
words are drawn in can be read from where the numbers sit: within a right-to-left stretch
the numbers must run from right to left, and the stretch must continue on the next line
where it stopped (its first words on the first line, at the right).
"""

from __future__ import annotations

import ctypes
import io
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from reportlab.lib.units import mm

from app.domain.categories import Category
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.pdf import bidi, fonts
from app.pdf.bundle import BundleDocument, BundleEvent, render_bundle
from app.pdf.common import Paragraph, esc, styles
from app.pdf.report_base import BODY_W, ReportPage, build_report, report_table
from app.services.casebook import Services, open_casebook
from app.services.context import resources_dir
from app.services.demo import DEMO_SCHOOL_PROFILE

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ARABIC_WORDS = ("المنشور", "المدرسة", "الأطفال", "المعلمة", "الصفحة", "الوالدين")
URDU_WORDS = ("پیغام", "اسکول", "بچوں", "والدین", "حفاظت", "ہٹا")


def numbered(words: tuple[str, ...], first: int, count: int) -> str:
    """'word 11 word 12 ...': each word followed by the number that says its place."""
    return " ".join(f"{w} {n}" for n, w in zip(range(first, first + count), cycle(words)))


@dataclass
class Line:
    baseline: float
    chars: list[tuple[float, float, str]]  # (left, right, character), left to right

    @property
    def text(self) -> str:
        """The line left to right (pdfium puts a space between words that stand apart)."""
        return "".join(c for c, _ in self._spelled())

    def _spelled(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for index, (_, _, char) in enumerate(self.chars):
            if char.isspace():
                if out and out[-1][0] != " ":
                    out.append((" ", index))
                continue
            out += [(c, index) for c in unicodedata.normalize("NFKC", char)]
        return out

    def numbers(self) -> list[int]:
        """The numbers on the line, left to right, each read with its digits left to right."""
        return [int(n) for n in re.findall(r"\d+", self.text)]

    def x_of(self, word: str) -> float:
        """Where ``word`` starts on the line."""
        return self.chars[self._spelled()[self.text.index(word)][1]][0]

    def x_of_first_arabic(self) -> float:
        return min(left for left, _, c in self.chars if c >= "\u0600")

    def edges(self) -> tuple[float, float]:
        """Where the line's ink starts and ends."""
        ink = [(a, b) for a, b, c in self.chars if not c.isspace()]
        return ink[0][0], max(b for _, b in ink)


def lines_of(pdf: bytes, left: float = 0, right: float = 10_000) -> list[Line]:
    """The text lines of every page, top to bottom, each glyph where pdfium finds it drawn
    (only glyphs between ``left`` and ``right``)."""
    document = pdfium.PdfDocument(pdf)
    lines = []
    x, y = ctypes.c_double(), ctypes.c_double()
    for page in document:
        text_page = page.get_textpage()
        found: dict[float, list[tuple[float, float, str]]] = {}
        for index in range(text_page.count_chars()):
            char = text_page.get_text_range(index, 1)
            if char in "\r\n":
                continue
            box_left, _bottom, box_right, _top = text_page.get_charbox(index)
            if not left <= box_left <= right:
                continue
            pdfium_c.FPDFText_GetCharOrigin(text_page.raw, index, ctypes.byref(x), ctypes.byref(y))
            key = next((k for k in found if abs(k - y.value) < 2), round(y.value, 1))
            found.setdefault(key, []).append((box_left, box_right, char))
        lines += [Line(k, sorted(v)) for k, v in sorted(found.items(), reverse=True)]
    document.close()
    return lines


def stretch_lines(lines: list[Line], numbers: range) -> list[list[int]]:
    """Per line holding any of ``numbers``, those numbers left to right."""
    wanted = set(numbers)
    out = []
    for line in lines:
        on_line = [n for n in line.numbers() if n in wanted]
        if on_line:
            out.append(on_line)
    return out


def assert_right_to_left_in_reading_order(lines: list[Line], numbers: range) -> list[list[int]]:
    """The stretch's words run right to left on each line, continuing line after line."""
    per_line = stretch_lines(lines, numbers)
    assert len(per_line) >= 3, per_line  # the stretch wraps over three lines or more
    for on_line in per_line:
        assert on_line == sorted(on_line, reverse=True), per_line
    assert [n for on_line in per_line for n in reversed(on_line)] == list(numbers), per_line
    return per_line


def pdftotext_lines(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [unicodedata.normalize("NFKC", line) for line in out.splitlines() if line.strip()]


def assert_pdftotext_keeps_line_membership(
    pdf: bytes, tmp_path: Path, per_line: list[list[int]]
) -> None:
    """pdftotext finds each line's numbers together on one line, lines in the same order."""
    text = pdftotext_lines(pdf, tmp_path)
    at = 0
    for on_line in per_line:
        wanted = {str(n) for n in on_line}
        while at < len(text) and not wanted <= set(re.findall(r"\d+", text[at])):
            at += 1
        assert at < len(text), (on_line, text)
        at += 1


@pytest.fixture(autouse=True)
def _fonts() -> None:
    fonts.register_fonts(resources_dir() / "fonts")


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=lambda: NOW)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


# The algorithm itself: python-bidi's levels, rule L2 over pieces.


def test_levels_come_from_the_unicode_algorithm() -> None:
    # English, an Arabic stretch with a number inside it, then English again.
    text = "Dear محمد علی, 123 ok"
    levels = bidi.levels(text, rtl=False)
    assert levels[:5] == [0] * 5  # "Dear "
    assert set(levels[5:15]) == {1}  # the Arabic words, the comma and space after them
    assert levels[15:18] == [2, 2, 2]  # an Arabic number: left to right inside the stretch
    assert levels[-2:] == [0, 0]
    # A line's closing spaces take the paragraph's level (rule L1).
    assert bidi.levels("محمد  ", rtl=False)[-2:] == [0, 0]


def test_visual_order_reverses_each_level_from_the_highest() -> None:
    assert bidi.visual_order([0, 1, 1, 1, 0]) == [0, 3, 2, 1, 4]
    assert bidi.visual_order([1, 2, 2, 1]) == [3, 1, 2, 0]
    assert bidi.visual_order([0, 0]) == [0, 1]


def test_a_paragraph_reads_right_to_left_only_when_it_starts_and_runs_so() -> None:
    assert bidi.is_rtl_paragraph(numbered(URDU_WORDS, 1, 5))
    assert not bidi.is_rtl_paragraph("محمد wrote on the school's Facebook page")
    assert not bidi.is_rtl_paragraph("The post said: " + numbered(ARABIC_WORDS, 1, 30))


# The address block (lines drawn one by one on the canvas).


def test_the_address_block_keeps_an_urdu_address_in_reading_order(services: Services) -> None:
    from app.pdf.letter import ADDRESS_AREA, DATE_COLUMN_LEFT, PAGE_H

    address = numbered(URDU_WORDS, 111, 12)
    case = services.cases.open_case(
        CaseDraft(title="Post", categories=frozenset({Category.ABUSIVE}), platform="Facebook")
    )
    person = services.people.add_person(
        PersonDraft(
            name="عائشہ خان",
            kind=PersonKind.PARENT,
            address_lines=(address, "St Helens"),
            postcode="WA10 5AA",
        )
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    pdf = services.letters.prepare(case.id, LetterKind.REMOVAL).pdf
    lines = [
        line
        for line in lines_of(pdf, right=DATE_COLUMN_LEFT)
        if PAGE_H - ADDRESS_AREA.bottom < line.baseline < PAGE_H - ADDRESS_AREA.top
    ]
    per_line = stretch_lines(lines, range(111, 123))
    assert len(per_line) >= 2, per_line  # the address line wraps inside the window
    for on_line in per_line:
        assert on_line == sorted(on_line, reverse=True), per_line
    assert [n for on_line in per_line for n in reversed(on_line)] == list(range(111, 123))
    for line in lines:
        left, right = line.edges()
        assert left >= ADDRESS_AREA.left - 0.5
        assert right <= ADDRESS_AREA.right + 0.5


# Letters: an English sentence that quotes an Arabic post, and Urdu facts.


def test_a_correction_letter_wraps_arabic_and_urdu_in_reading_order(
    services: Services, tmp_path: Path
) -> None:
    arabic = numbered(ARABIC_WORDS, 111, 40)
    urdu = numbered(URDU_WORDS, 311, 40)
    case = services.cases.open_case(
        CaseDraft(
            title="Post with wrong facts",
            categories=frozenset({Category.INACCURATE}),
            platform="Facebook",
            post_place="Eccleston Parents Chat",
            posted_at=datetime(2026, 11, 20, 19, 5, tzinfo=UTC),
            inaccurate_text=arabic,
            correct_facts=urdu + " (see the letter of 2 December 2026)",
        )
    )
    person = services.people.add_person(
        PersonDraft(
            name="Mrs Aisha Khan",
            kind=PersonKind.PARENT,
            address_lines=("12 Example Close", "St Helens"),
            postcode="WA10 5AA",
        )
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    issued = services.letters.issue(case.id, LetterKind.CORRECTION)
    pdf = services.letters.letter_pdf(issued.id)
    lines = lines_of(pdf)

    per_line = assert_right_to_left_in_reading_order(lines, range(111, 151))
    assert_pdftotext_keeps_line_membership(pdf, tmp_path, per_line)
    # The English sentence comes first, at the left of the line the stretch starts on.
    first = next(line for line in lines if 111 in line.numbers())
    assert "not correct:" in first.text
    assert first.x_of("not correct:") < first.x_of_first_arabic()

    per_line = assert_right_to_left_in_reading_order(lines, range(311, 351))
    assert_pdftotext_keeps_line_membership(pdf, tmp_path, per_line)
    # The date after the Urdu stays English, in order, after the stretch.
    last = next(line for line in lines if "December" in line.text)
    assert "2 December 2026" in last.text
    assert 350 in last.numbers()


# The case file: an Urdu summary (a paragraph that reads right to left) and table cells.


def test_the_case_file_sets_an_urdu_summary_right_to_left_at_the_right_margin(
    tmp_path: Path,
) -> None:
    urdu = numbered(URDU_WORDS, 111, 40) + " Facebook 2026"
    arabic_cell = "Reply: " + numbered(ARABIC_WORDS, 311, 20)
    doc = BundleDocument(
        reference="SM-2026-0001",
        title="Post",
        school="Eccleston Lane Ends Primary School",
        generated_on="24 November 2026",
        generated_by="Head Teacher",
        for_sharing=False,
        status="Open",
        summary=urdu,
        facts=(),
        standards=(),
        code_title="Code",
        code_version="1",
        people=(),
        events=(BundleEvent("24/11/2026", "Head Teacher", arabic_cell),),
        letters=(),
        exhibits=(),
    )
    pdf = render_bundle(doc)
    lines = lines_of(pdf)
    per_line = assert_right_to_left_in_reading_order(lines, range(111, 151))
    assert_pdftotext_keeps_line_membership(pdf, tmp_path, per_line)
    summary = [line for line in lines if set(line.numbers()) & set(range(111, 151))]
    # Right-to-left: every line ends at the same right edge, the last is the shortest.
    rights = [line.edges()[1] for line in summary]
    assert max(rights) - min(rights) < 1.5, rights
    lefts = [line.edges()[0] for line in summary]
    assert lefts[-1] > max(lefts[:-1]) + 20
    # English inside it still reads left to right, and comes where the stretch ends: at
    # the left of the last line.
    assert "Facebook" in summary[-1].text
    assert summary[-1].x_of("Facebook") < summary[-1].x_of_first_arabic()

    per_cell = assert_right_to_left_in_reading_order(lines, range(311, 331))
    assert_pdftotext_keeps_line_membership(pdf, tmp_path, per_cell)
    reply = next(line for line in lines if 311 in line.numbers())
    assert reply.x_of("Reply:") < reply.x_of_first_arabic()


def test_a_report_table_cell_wraps_arabic_in_reading_order(tmp_path: Path) -> None:
    s = styles(9)
    rows = [
        [Paragraph("Name", s["bold"]), Paragraph("What they wrote", s["bold"])],
        [
            Paragraph(esc("محمد علی"), s["plain"]),
            Paragraph(esc(numbered(ARABIC_WORDS, 111, 30)), s["plain"]),
        ],
    ]
    story = [report_table(rows, [40 * mm, BODY_W - 40 * mm])]
    page = ReportPage(title="Report", author="School", footer_left="Report", footer_right="")
    pdf = build_report(story, page)
    lines = lines_of(pdf)
    per_line = assert_right_to_left_in_reading_order(lines, range(111, 141))
    assert_pdftotext_keeps_line_membership(pdf, tmp_path, per_line)


def test_punctuation_after_an_arabic_name_stays_on_the_english_side() -> None:
    # "Dear محمد علی," : the comma belongs to the English sentence, right of the name.
    out = io.BytesIO()
    from reportlab.platypus import SimpleDocTemplate

    SimpleDocTemplate(out).build([Paragraph(esc("Dear محمد علی, thank you."), styles()["body"])])
    (line,) = [ln for ln in lines_of(out.getvalue()) if "Dear" in ln.text]
    comma = line.x_of(",")
    assert comma > max(left for left, _, c in line.chars if c >= "\u0600")
    assert line.text.endswith("thank you.")


# The subject access response: the person's details (a paragraph) and their cases (a table).


def test_a_subject_access_response_wraps_urdu_details_and_an_arabic_title(
    services: Services, tmp_path: Path
) -> None:
    from datetime import date

    person = services.people.add_person(
        PersonDraft(
            name="عائشہ خان",
            kind=PersonKind.PARENT,
            address_lines=(numbered(URDU_WORDS, 411, 30), "St Helens"),
            postcode="WA10 5AA",
        )
    )
    case = services.cases.open_case(
        CaseDraft(
            title="Post: " + numbered(ARABIC_WORDS, 611, 14),
            categories=frozenset({Category.ABUSIVE}),
            platform="Facebook",
        )
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    request = services.subject_access.record_request(person.id, date(2026, 11, 20), "passport")
    pdf = services.subject_access.respond(request.id).pdf
    lines = lines_of(pdf)
    per_line = assert_right_to_left_in_reading_order(lines, range(411, 441))
    assert_pdftotext_keeps_line_membership(pdf, tmp_path, per_line)
    # The case's title wraps inside its table cell, in reading order too.
    per_cell = stretch_lines(lines, range(611, 625))
    assert len(per_cell) >= 2, per_cell
    for on_line in per_cell:
        assert on_line == sorted(on_line, reverse=True), per_cell
    assert [n for on_line in per_cell for n in reversed(on_line)] == list(range(611, 625))


def test_a_comma_after_a_bold_arabic_name_prints_as_a_comma_on_the_english_side() -> None:
    # The name and the comma come from two pieces of markup: one word, two fonts.
    from reportlab.platypus import SimpleDocTemplate

    out = io.BytesIO()
    text = f"The school holds about <b>{esc('عائشہ خان')}</b>, prepared on 24/11/2026."
    SimpleDocTemplate(out).build([Paragraph(text, styles()["body"])])
    (line,) = [ln for ln in lines_of(out.getvalue()) if "school" in ln.text]
    arabic = [left for left, _, c in line.chars if c >= "\u0600"]
    assert line.x_of(",") > max(arabic)
    # Nothing but the sentence's own characters: no glyph printed from the wrong font.
    latin = set(line.text) - {c for c in line.text if c >= "\u0600"}
    assert latin <= set("The school holds about, prepared on 24/11/2026."), latin
    # The name reads right to left: its first word is drawn at the right.
    first, second = (unicodedata.normalize("NFKC", w) for w in ("عائشہ", "خان"))
    spelled = unicodedata.normalize("NFKC", line.text)
    assert spelled.index(second[::-1]) < spelled.index(first[::-1])


# The leaflet: a contact line the school writes in Urdu, in its table of contacts.


def test_the_leaflet_wraps_an_urdu_contact_line_in_reading_order(
    services: Services, tmp_path: Path
) -> None:
    from app.pdf.documents import Branding, ContactLine, GuidanceDocument
    from app.pdf.leaflet import render_guidance

    document = GuidanceDocument(
        branding=Branding(DEMO_SCHOOL_PROFILE),
        code=services.ctx.code,
        code_date_text="1 September 2026",
        contacts=(ContactLine("اردو", numbered(URDU_WORDS, 711, 24)),),
    )
    pdf = render_guidance(document)
    per_line = assert_right_to_left_in_reading_order(lines_of(pdf), range(711, 735))
    assert_pdftotext_keeps_line_membership(pdf, tmp_path, per_line)


def test_a_passage_split_over_two_pages_keeps_its_order_across_the_break() -> None:
    # The part on the second page starts with a number that follows an Arabic word on
    # the first: the algorithm must see the whole paragraph to keep it in the stretch.
    from reportlab.platypus import SimpleDocTemplate, Spacer

    out = io.BytesIO()
    SimpleDocTemplate(out).build(
        [
            Spacer(1, 500),
            Paragraph(esc(numbered(URDU_WORDS, 1000, 300)), styles()["body"]),
            Paragraph(esc("The post: " + numbered(ARABIC_WORDS, 3000, 300)), styles()["body"]),
        ]
    )
    pdf = out.getvalue()
    assert len(pdfium.PdfDocument(pdf)) >= 3
    assert_right_to_left_in_reading_order(lines_of(pdf), range(1000, 1300))
    assert_right_to_left_in_reading_order(lines_of(pdf), range(3000, 3300))


@pytest.mark.parametrize(
    "text",
    [
        "aم\u2067ئً",  # an isolate mark, and a vowel sign drawn first in its word
        "Dear مُحَمَّد عَلِيّ, thank you.",  # names written with their vowel signs
        "王م\u2067ئً 12",
        "د\u00a0ל\u200c",  # a no-break space between Arabic and Hebrew: one word, two fonts
        "שָׁלוֹם 2026 עוֹלָם and مُحَمَّد",
    ],
)
def test_awkward_mixtures_lay_out_and_print(text: str) -> None:
    from reportlab.platypus import SimpleDocTemplate

    out = io.BytesIO()
    SimpleDocTemplate(out).build([Paragraph(esc(text), styles()["body"])])
    assert lines_of(out.getvalue())
