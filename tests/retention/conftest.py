"""A casebook with people, letters and evidence on closed cases, for retention tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from app.domain.categories import Category
from app.domain.evidence import EvidenceDetails
from app.domain.letters import LetterKind, SendMethod
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.domain.status import CaseStatus
from app.evidence.derivatives import Box
from app.services.casebook import Services
from app.services.demo import DEMO_SCHOOL_PROFILE
from tests.conftest import Clock, SavedCasebook, new_or_saved_copy, saved_casebook

SUBJECT = "Dana Wells"
OTHER = "Priya Shah"
OTHER_ADDRESS = "12 Mill Lane"


def png(colour: str = "skyblue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(out, "PNG")
    return out.getvalue()


@dataclass
class Filled:
    closed_id: int
    open_id: int
    subject_id: int
    other_id: int
    shared_png: bytes


@pytest.fixture(scope="session")
def saved_filled(request: pytest.FixtureRequest) -> tuple[SavedCasebook, Filled]:
    """The casebook of ``fill``, made once a run and copied for each test of ``filled``."""
    made: list[Filled] = []
    saved = saved_casebook(request, "sqlite", lambda services: made.append(fill(services)))
    return saved, made[0]


@pytest.fixture
def services(
    request: pytest.FixtureRequest, data_dir: Path, clock: Clock, actor: str
) -> Iterator[Services]:
    """A new casebook; for a test that asks for ``filled``, a copy of the filled one (so
    that every fixture of that test works on the same copy)."""
    yield from new_or_saved_copy(request, data_dir, actor, clock, copy_for="filled")


@pytest.fixture
def filled(services: Services, saved_filled: tuple[SavedCasebook, Filled]) -> Filled:
    """The ids of what ``fill`` put in ``services`` (a copy of its casebook)."""
    return saved_filled[1]


def fill(services: Services) -> Filled:
    """Two cases sharing a person and a picture; the first is closed, with a letter."""
    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    people = services.people
    subject = people.add_person(
        PersonDraft(
            name=SUBJECT,
            kind=PersonKind.PARENT,
            address_lines=("3 Orchard Close", "Ashby"),
            postcode="AB1 2CD",
            email="dana@example.org",
        )
    )
    other = people.add_person(
        PersonDraft(
            name=OTHER,
            kind=PersonKind.PARENT,
            address_lines=(OTHER_ADDRESS,),
            email="priya@example.org",
            phone="07700 900123",
        )
    )
    lonely = people.add_person(PersonDraft(name="Sam Lonely", kind=PersonKind.OTHER))
    closed = services.cases.open_case(
        CaseDraft(
            title="Post naming a teacher",
            categories=frozenset({Category.ABUSIVE}),
            platform="Facebook",
            post_url="https://www.facebook.com/groups/ashby/posts/1",
            summary=f"Reported by {OTHER} of {OTHER_ADDRESS}; Mrs Shah sent a screenshot.",
        )
    )
    services.cases.link_person(closed.id, subject.id, CaseRole.AUTHOR)
    services.cases.link_person(closed.id, other.id, CaseRole.REPORTER)
    services.cases.link_person(closed.id, lonely.id, CaseRole.WITNESS)
    services.cases.add_note(closed.id, f"Phoned {SUBJECT}; {OTHER} was present.")
    shared = png("orange")
    added = services.evidence.add_bytes(
        closed.id,
        [("screenshot-priya.png", shared), ("own.png", png("green"))],
        EvidenceDetails(),
    )
    services.evidence.redact(added[1].exhibit.id, [Box(10, 10, 30, 20)])
    letter = services.letters.issue(
        closed.id, LetterKind.REMOVAL, subject.id, confirm_post_details=True
    )
    services.letters.mark_sent(letter.id, SendMethod.POST)
    services.cases.change_status(closed.id, CaseStatus.RESOLVED)
    still_open = services.cases.open_case(
        CaseDraft(title="Second post", categories=frozenset({Category.ABUSIVE}))
    )
    services.cases.link_person(still_open.id, other.id, CaseRole.REPORTER)
    services.evidence.add_bytes(still_open.id, [("same.png", shared)], EvidenceDetails())
    return Filled(closed.id, still_open.id, subject.id, other.id, shared)


def years_later(day: date, years: int) -> date:
    return day.replace(year=day.year + years)
