"""The recipient's address, measured back out of the PDF, stays inside the envelope window."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from reportlab.pdfbase import pdfmetrics

from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.pdf.fonts import BOLD, REGULAR
from app.pdf.letter import ADDRESS_AREA, ADDRESS_SIZES
from app.services.casebook import Services, open_casebook
from app.services.demo import DEMO_SCHOOL_PROFILE

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MM = 72 / 25.4


def _em(font: str = BOLD) -> float:
    """pdftotext's word box is the font's ascent to descent: its height in ems."""
    face = pdfmetrics.getFont(font).face
    return float(face.ascent - face.descent) / 1000


LONG_NAME = "Alexandra-Josephine Montgomery-Fitzwilliam-Ashworth-Worthington-Smythe Jnr"
LONG_LINE = "Flat 14B, The Old Cotton Mill Apartments, Upper Eccleston Lane Ends Industrial Estate"


@dataclass(frozen=True)
class Word:
    text: str
    x0: float  # mm from the left edge
    y0: float  # mm from the top edge
    x1: float
    y1: float


def _words(pdf: bytes, tmp_path: Path, page: int = 1) -> list[Word]:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = []
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    for x0, y0, x1, y1, text in re.findall(pattern, html):
        found.append(
            Word(unescape(text), *(float(v) / MM for v in (x0, y0, x1, y1)))  # type: ignore[arg-type]
        )
    return found


@pytest.fixture
def services(tmp_path: Path) -> Services:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=lambda: NOW)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def _case(services: Services, name: str, lines: tuple[str, ...], postcode: str) -> int:
    case = services.cases.open_case(
        CaseDraft(
            title="Post about staff",
            categories=frozenset({Category.ABUSIVE}),
            platform="X",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="@EcclestonParents",
        )
    )
    person = services.people.add_person(
        PersonDraft(name=name, kind=PersonKind.PARENT, address_lines=lines, postcode=postcode)
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    return case.id


def _inside_window(word: Word) -> bool:
    area = ADDRESS_AREA
    return (
        word.x0 >= area.left / MM - 0.2
        and word.x1 <= area.right / MM + 0.2
        and word.y0 >= area.top / MM - 0.5
        and word.y1 <= area.bottom / MM + 0.5
    )


def test_the_address_area_shows_at_every_settling_position() -> None:
    # A DL envelope 220 x 110 mm, window 20 mm from the left and 15 mm from the bottom,
    # 90 x 45 mm; the letter folded to 210 x 99 mm slides 10 mm sideways, 11 mm up/down.
    area = ADDRESS_AREA
    for dx in (0.0, 10.0):
        for dy in (0.0, 11.0):
            window = (20 - dx, 110 - 15 - 45 - dy, 110 - dx, 110 - 15 - dy)
            assert window[0] <= area.left / MM and area.right / MM <= window[2]
            assert window[1] <= area.top / MM and area.bottom / MM <= window[3]
    assert area.width / MM >= 75 and area.height / MM >= 30


def test_a_long_name_and_address_stay_inside_the_window(services: Services, tmp_path: Path) -> None:
    assert len(LONG_NAME) == 74
    lines = (LONG_LINE, "Eccleston", "St Helens")
    case_id = _case(services, LONG_NAME, lines, "WA10 5AA")
    pdf = services.letters.prepare(case_id, LetterKind.REMOVAL).pdf
    words = _words(pdf, tmp_path)
    block = [w for w in words if 45 < w.y0 < 95 and w.x0 < 110]
    texts = " ".join(w.text for w in block).replace("- ", "-")
    for part in (*LONG_NAME.split(), *LONG_LINE.split(), "Eccleston", "Helens", "WA10", "5AA"):
        assert part in texts
    # Shrunk, but never below the floor.
    heights = [(w.y1 - w.y0) * MM / _em(REGULAR) for w in block if w.y0 > 56]
    assert min(heights) >= ADDRESS_SIZES[-1] - 0.01
    outside = [w for w in block if not _inside_window(w)]
    assert outside == []
    # Nothing of the address reaches the date and reference column.
    date_col = [
        w for w in words if w.text in ("Date", "reference", "SM-2026-0001", "2026") and w.y0 < 95
    ]
    assert len(date_col) == 4 and min(w.x0 for w in date_col) > max(w.x1 for w in block) + 5


def test_a_short_address_prints_at_full_size_with_a_return_line(
    services: Services, tmp_path: Path
) -> None:
    case_id = _case(services, "Zoë Łukasiewicz", ("12 Example Close", "Eccleston"), "WA10 5AA")
    words = _words(services.letters.prepare(case_id, LetterKind.REMOVAL).pdf, tmp_path)
    name = next(w for w in words if w.text == "Zoë")
    # The name prints at the largest size.
    assert (name.y1 - name.y0) * MM / _em(BOLD) == pytest.approx(ADDRESS_SIZES[0], rel=0.02)
    school = DEMO_SCHOOL_PROFILE.name.split()[0]
    back = [w for w in words if w.text.startswith(school) and 45 < w.y0 < name.y0]
    assert back and all(_inside_window(w) for w in back)
    confidential = next(w for w in words if w.text == "PRIVATE")
    # In that order down the window. (pdftotext's boxes run from the font's ascent to its
    # descent, which for Noto Sans is taller than the line, so the boxes may touch.)
    assert back[0].y0 < confidential.y0 < name.y0 and back[0].y1 < confidential.y1 < name.y1


def test_an_address_with_too_many_lines_is_refused_and_nothing_is_issued(
    services: Services,
) -> None:
    # Five lines (the most a person's details take), each too long for one line.
    lines = tuple(
        f"Part {n} of a very long address, Somewhere Quite Far Away From Everywhere Else"
        for n in range(5)
    )
    case_id = _case(services, "Sam Taylor", lines, "WA10 5AA")
    with pytest.raises(ValidationError, match=r"address of Sam Taylor needs \d+ lines"):
        services.letters.issue(case_id, LetterKind.REMOVAL)
    assert services.letters.list_letters(case_id) == []
