"""Pupils are recorded on cases but never named in letters or shared copies; a letter to a
contact with restrictions needs confirming, naming the flag."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.domain.sharing import Recipient
from app.services.casebook import Services, open_casebook
from app.services.demo import DEMO_SCHOOL_PROFILE

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = open_casebook(tmp_path / "data", actor="Head", clock=lambda: NOW)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def _case(services: Services, **parent: object) -> tuple[int, int, int]:
    case = services.cases.open_case(
        CaseDraft(
            title="Post naming Amelia Hart in Year 4",
            summary="The post says Millie was pushed in the playground.",
            categories=frozenset({Category.ABUSIVE}),
            platform="Facebook",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="Eccleston Parents Chat",
        )
    )
    author = services.people.add_person(
        PersonDraft(
            name="Dale Pike", title="Mr", surname="Pike", forenames="Dale",
            address_lines=("2 Church Street", "Prescot"), postcode="L34 3LA", **parent,
        )
    )  # fmt: skip
    pupil = services.people.add_person(
        PersonDraft(
            name="Amelia Hart", kind=PersonKind.PUPIL, forenames="Amelia", surname="Hart",
            preferred_name="Millie", year_group="Year 4", reg_group="4W",
        )
    )  # fmt: skip
    services.cases.link_person(case.id, pupil.id, CaseRole.SUBJECT)
    services.cases.link_person(case.id, author.id, CaseRole.AUTHOR)
    return case.id, author.id, pupil.id


def test_a_letter_never_names_the_pupil_and_is_never_to_them(services: Services) -> None:
    case_id, author_id, pupil_id = _case(services)
    prepared = services.letters.prepare(case_id, LetterKind.REMOVAL, author_id)
    text = _text(prepared.pdf)
    assert "Dear Mr Pike," in text
    assert "Amelia" not in text and "Millie" not in text and "Hart" not in text
    with pytest.raises(ValidationError, match="never addressed to pupils"):
        services.letters.prepare(case_id, LetterKind.REMOVAL, pupil_id)


@pytest.mark.parametrize("recipient", [Recipient.AUTHOR, Recipient.LADO, Recipient.POLICE])
def test_shared_copies_never_name_the_pupil(services: Services, recipient: Recipient) -> None:
    case_id, _author, _pupil = _case(services)
    text = _text(services.reports.case_file(case_id, recipient=recipient))
    assert "Amelia" not in text and "Millie" not in text
    assert "[pupil]" in text
    own = _text(services.reports.case_file(case_id))
    assert "Amelia Hart" in own  # the head's own complete file keeps it


@pytest.mark.parametrize(
    ("details", "flag"),
    [
        ({"parental_responsibility": False}, "has no parental responsibility"),
        ({"court_order": True}, "has a court order recorded"),
        ({"contact_restriction": True}, "has a contact restriction recorded"),
    ],
)
def test_a_restricted_contact_needs_confirming(
    services: Services, details: dict[str, object], flag: str
) -> None:
    case_id, author_id, _pupil = _case(services, **details)
    prepared = services.letters.prepare(case_id, LetterKind.REMOVAL, author_id)
    assert prepared.restriction == f"Dale Pike {flag}."
    with pytest.raises(ValidationError, match=flag):
        services.letters.issue(case_id, LetterKind.REMOVAL, author_id, prepared=prepared)
    assert services.letters.list_letters(case_id) == []
    issued = services.letters.issue(
        case_id, LetterKind.REMOVAL, author_id, prepared=prepared, confirm_restriction=True
    )
    assert issued.recipient_name == "Dale Pike"


def test_an_unrestricted_contact_issues_as_before(services: Services) -> None:
    case_id, author_id, _pupil = _case(services, parental_responsibility=True)
    prepared = services.letters.prepare(case_id, LetterKind.REMOVAL, author_id)
    assert prepared.restriction == ""
    services.letters.issue(case_id, LetterKind.REMOVAL, author_id, prepared=prepared)


def test_a_parents_subject_access_export_keeps_their_own_child(services: Services) -> None:
    from datetime import date

    sims = Path(__file__).resolve().parent.parent / "fixtures" / "mis" / "sims_student_contacts.csv"
    services.people_import.import_file(sims.read_bytes(), sims.name)
    people = {p.name: p for p in services.people.search_people("", limit=100)}
    case = services.cases.open_case(
        CaseDraft(
            title="Post about Amelia Hart and Chidi Nwosu",
            categories=frozenset({Category.ABUSIVE}),
            platform="Facebook",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="Eccleston Parents Chat",
        )
    )
    for name, role in (("Joanne Hart", CaseRole.AUTHOR), ("Amelia Hart", CaseRole.SUBJECT)):
        services.cases.link_person(case.id, people[name].id, role)
    request = services.subject_access.record_request(
        people["Joanne Hart"].id, date(2026, 11, 20), "passport"
    )
    text = _text(services.subject_access.respond(request.id).pdf)
    assert "Amelia Hart" in text  # her own child
    assert "Chidi" not in text and "Nwosu" not in text  # someone else's child


def test_office_staff_never_see_a_pupil_linked_only_to_safeguarding_cases(
    tmp_path: Path,
) -> None:
    from app.domain.access import Role

    s = open_casebook(tmp_path / "sealed", clock=lambda: NOW)
    try:
        s.users.create_first_user("head", "correct horse battery")
        s.users.add_user("office", Role.OFFICE, "paper staple lantern")
        s.users.sign_in("head", "correct horse battery")
        sims = Path(__file__).resolve().parent.parent / "fixtures" / "mis"
        s.people_import.import_file((sims / "sims_student_contacts.csv").read_bytes(), "s.csv")
        pupils = {p.name: p for p in s.people.search_people("", limit=100)}
        case = s.cases.open_case(
            CaseDraft(title="Concern", categories=frozenset({Category.SAFEGUARDING}))
        )
        s.cases.link_person(case.id, pupils["Chidi Nwosu"].id, CaseRole.SUBJECT)
        s.users.sign_in("office", "paper staple lantern")
        seen = {p.name for p in s.people.search_people("", limit=100)}
        assert "Chidi Nwosu" not in seen and "Amelia Hart" in seen
        mother = next(p for p in s.people.search_people("Ngozi"))
        assert s.people_import.family(mother.id) == []  # her child is hidden from them
    finally:
        s.close()
