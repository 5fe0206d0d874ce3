"""A casebook with known values planted where they must never leak: a reporter's name and
street, a child's name in a file name and in the summary, a third party in an exhibit."""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from app.domain.categories import Category
from app.domain.evidence import EvidenceDetails
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.evidence.derivatives import Box
from app.services.casebook import Services
from app.services.demo import DEMO_SCHOOL_PROFILE
from tests.conftest import Clock, SavedCasebook, new_or_saved_copy, saved_casebook

AUTHOR = "Gareth Pryce-Jones"
AUTHOR_STREET = "4 Linden Road"
REPORTER = "Marion Whitlock"
REPORTER_STREET = "27 Tannery Street"
REPORTER_PHONE = "01744 555 0199"
CHILD = "Tommy Pryce-Jones"
CHILD_FIRST = "Tommy"
CHILD_FILE = "Tommy_Pryce-Jones_4B_sports_day.png"
THIRD = "Priya Shah"
THIRD_FILE = "thread-priya.pdf"
# What a person the recipient may not see would give away, whoever they are.
REPORTER_VALUES = (REPORTER, "Whitlock", REPORTER_STREET, "Tannery", REPORTER_PHONE, "WA10 4QZ")
CHILD_VALUES = (CHILD, CHILD_FIRST, "Tommy_Pryce", "sports_day")
THIRD_VALUES = (THIRD, "Priya", "Shah")
AUTHOR_VALUES = (AUTHOR, "Gareth", AUTHOR_STREET, "gareth@example.org")
FACE = (220, 20, 20)  # the third party's face in the picture: pure red


def picture_with_face() -> bytes:
    """A screenshot with a red patch (someone's face) in its top left corner."""
    image = Image.new("RGB", (320, 200), "white")
    ImageDraw.Draw(image).rectangle((10, 10, 90, 70), fill=FACE)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def plain_picture(colour: str = "lightblue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 120), colour).save(out, "PNG")
    return out.getvalue()


def pdf_naming(text: str) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 700, text)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def pdf_text(pdf: bytes) -> str:
    """The words of a PDF as pdftotext reads them (what a recipient can copy out)."""
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    words = done.stdout.decode("utf-8")
    reader = PdfReader(io.BytesIO(pdf))
    info = " ".join(str(v) for v in (reader.metadata or {}).values())
    return words + "\n" + info


def zip_text(data: bytes) -> str:
    """Every file name in a zip and the words of every PDF and text file in it."""
    parts = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            parts.append(name)
            content = archive.read(name)
            if content.startswith(b"%PDF"):
                parts.append(pdf_text(content))
            elif name.endswith((".txt", ".csv", ".json")):
                parts.append(content.decode("utf-8", errors="replace"))
    return "\n".join(parts)


def images_in(pdf: bytes) -> list[Image.Image]:
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            found.append(Image.open(io.BytesIO(image.data)).convert("RGB"))
    return found


def shows_face(image: Image.Image) -> bool:
    """True when the red face is anywhere in the picture (allowing for JPEG)."""
    small = image.resize((80, 50))
    return any(r > 180 and g < 80 and b < 80 for r, g, b in small.getdata())


def assert_absent(text: str, values: tuple[str, ...], where: str) -> None:
    flat = " ".join(text.split()).casefold()
    for value in values:
        assert " ".join(value.split()).casefold() not in flat, f"{value!r} in {where}"


@dataclass
class Planted:
    case_id: int
    safeguarding_id: int
    author_id: int
    reporter_id: int
    child_id: int
    third_id: int
    reference: str


@pytest.fixture(scope="session")
def saved_planted(request: pytest.FixtureRequest) -> tuple[SavedCasebook, Planted]:
    """The casebook of ``plant``, made once a run (its evidence, redactions and letters
    took longer than most tests of it) and copied for each test of ``planted``."""
    made: list[Planted] = []
    saved = saved_casebook(request, "sqlite", lambda services: made.append(plant(services)))
    return saved, made[0]


@pytest.fixture
def services(
    request: pytest.FixtureRequest, data_dir: Path, clock: Clock, actor: str
) -> Iterator[Services]:
    """A new casebook; for a test that asks for ``planted``, a copy of the planted one
    (so that every fixture of that test, a window's tab say, works on the same copy)."""
    yield from new_or_saved_copy(request, data_dir, actor, clock, copy_for="planted")


@pytest.fixture
def planted(services: Services, saved_planted: tuple[SavedCasebook, Planted]) -> Planted:
    """The ids of what ``plant`` put in ``services`` (a copy of its casebook)."""
    return saved_planted[1]


def plant(services: Services) -> Planted:
    """The school's profile, and a case holding every planted value, with its evidence,
    redactions and letters; and a safeguarding case by the same author."""
    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    people = services.people
    author = people.add_person(
        PersonDraft(
            name=AUTHOR,
            kind=PersonKind.PARENT,
            address_lines=(AUTHOR_STREET, "St Helens"),
            postcode="WA9 1AA",
            email="gareth@example.org",
        )
    )
    reporter = people.add_person(
        PersonDraft(
            name=REPORTER,
            kind=PersonKind.PARENT,
            address_lines=(REPORTER_STREET, "St Helens"),
            postcode="WA10 4QZ",
            phone=REPORTER_PHONE,
        )
    )
    child = people.add_person(PersonDraft(name=CHILD, kind=PersonKind.OTHER))
    third = people.add_person(
        PersonDraft(name=THIRD, kind=PersonKind.PARENT, email="priya@example.org")
    )
    case = services.cases.open_case(
        CaseDraft(
            title="Post about class 4B",
            categories=frozenset({Category.ABUSIVE}),
            summary=(
                f"{REPORTER} of {REPORTER_STREET} saw a post naming {CHILD} of class 4B; "
                f"{THIRD} commented under it."
            ),
            platform="Facebook",
            post_url="https://www.facebook.com/groups/example/posts/77",
            account_handle="@gpj_dad",
            posted_at=datetime(2026, 11, 20, 18, 0, tzinfo=UTC),
            reported_on=date(2026, 11, 21),
            reported_by=REPORTER,
        )
    )
    for person, role in (
        (author, CaseRole.AUTHOR),
        (reporter, CaseRole.REPORTER),
        (child, CaseRole.SUBJECT),
        (third, CaseRole.WITNESS),
    ):
        services.cases.link_person(case.id, person.id, role)
    services.cases.add_note(case.id, f"Phoned {REPORTER} at {REPORTER_STREET} ({REPORTER_PHONE}).")
    services.cases.add_note(case.id, f"Mr Pryce-Jones was told the post upsets {CHILD_FIRST}.")
    added = services.evidence.add_bytes(
        case.id,
        [
            (CHILD_FILE, picture_with_face()),
            (THIRD_FILE, pdf_naming(f"{THIRD} commented: shocking")),
            ("own_post.png", plain_picture()),
        ],
        EvidenceDetails(note=f"Sent in by {REPORTER}"),
    )
    face = added[0].exhibit.id
    # The face is covered for the author and for the reporter; the platform gets exhibit 3.
    services.evidence.redact(face, [Box(0, 0, 100, 80)], "author")
    services.evidence.redact(face, [Box(0, 0, 100, 80)], f"person:{reporter.id}")
    services.evidence.redact(added[2].exhibit.id, [Box(0, 0, 5, 5)], "platform")
    # The post's group is not recorded: the letters go saying only where and when it was.
    services.letters.issue(
        case.id, LetterKind.ACKNOWLEDGEMENT, reporter.id, confirm_post_details=True
    )
    services.letters.issue(case.id, LetterKind.REMOVAL, author.id, confirm_post_details=True)
    guarding = services.cases.open_case(
        CaseDraft(
            title="Picture of pupils at the gate",
            categories=frozenset({Category.SAFEGUARDING}),
            summary=f"The post shows {CHILD_FIRST} in uniform outside the school.",
            platform="Instagram",
        )
    )
    services.cases.link_person(guarding.id, author.id, CaseRole.AUTHOR)
    return Planted(
        case.id,
        guarding.id,
        author.id,
        reporter.id,
        child.id,
        third.id,
        case.reference,
    )


def save_png_pages(pdf: bytes, folder: Path, stem: str) -> list[Path]:
    """The PDF's pages as PNG files (pdftoppm), to look at as a reader would."""
    source = folder / f"{stem}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(source), str(folder / stem)], check=True)
    return sorted(folder.glob(f"{stem}*.png"))
