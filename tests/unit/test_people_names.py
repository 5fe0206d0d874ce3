"""Names in parts, the salutation letters use, and pupils as a kind of person."""

from __future__ import annotations

import pytest

from app.domain.errors import ValidationError
from app.domain.people import PersonKind, Restriction, parse_person_kind, salutation
from app.domain.records import Person, PersonDraft
from app.domain.validation import check_person_draft


@pytest.mark.parametrize(
    ("title", "surname", "name", "expected"),
    [
        ("Mrs", "Whitfield", "Karen Whitfield", "Dear Mrs Whitfield"),
        ("Dr.", "Okafor", "Ngozi Okafor", "Dear Dr Okafor"),
        ("", "Łukasiewicz", "Zoë Łukasiewicz", "Dear Zoë Łukasiewicz"),
        ("Mr", "", "Dale Pike", "Dear Mr Dale Pike"),
        ("", "", "", "Dear Parent/Carer"),
        ("Mrs", "", "", "Dear Parent/Carer"),
        ("  Ms ", " Hart  ", "", "Dear Ms Hart"),
    ],
)
def test_salutation(title: str, surname: str, name: str, expected: str) -> None:
    assert salutation(title, surname, name) == expected


def test_person_salutation_and_restrictions() -> None:
    person = Person(
        1,
        "Dale Pike",
        PersonKind.PARENT,
        title="Mr",
        surname="Pike",
        parental_responsibility=False,
        court_order=True,
    )
    assert person.salutation == "Dear Mr Pike"
    assert person.restrictions == (Restriction.NO_PARENTAL_RESPONSIBILITY, Restriction.COURT_ORDER)
    # Typed in by hand: parental responsibility is not known, which is not a flag.
    assert Person(2, "Ann Lee", PersonKind.PARENT).restrictions == ()


def test_pupil_is_a_kind_of_person() -> None:
    assert parse_person_kind("Pupil") is PersonKind.PUPIL


def test_name_made_from_its_parts_when_not_given() -> None:
    clean = check_person_draft(
        PersonDraft(name="", title="Mrs", forenames="Karen", surname="Whitfield")
    )
    assert clean.name == "Karen Whitfield"
    assert clean.title == "Mrs"


def test_bad_parts_refused_in_one_sentence() -> None:
    with pytest.raises(ValidationError, match="title is too long"):
        check_person_draft(PersonDraft(name="A B", title="The Right Honourable Lord"))
    with pytest.raises(ValidationError, match="contact priority"):
        check_person_draft(PersonDraft(name="A B", contact_priority=0))


def test_letter_greets_by_title_and_surname(tmp_path: object) -> None:
    import io
    from datetime import UTC, datetime
    from pathlib import Path

    from pypdf import PdfReader

    from app.domain.categories import Category
    from app.domain.letters import LetterKind
    from app.domain.people import CaseRole
    from app.domain.records import CaseDraft
    from app.services.casebook import open_casebook
    from app.services.demo import DEMO_SCHOOL_PROFILE

    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    services = open_casebook(Path(str(tmp_path)) / "data", actor="Head", clock=lambda: now)
    try:
        services.letters.profile.save(DEMO_SCHOOL_PROFILE)
        case = services.cases.open_case(
            CaseDraft(
                title="Post about staff",
                categories=frozenset({Category.ABUSIVE}),
                platform="Facebook",
            )
        )
        texts = []
        for draft in (
            PersonDraft(
                name="",
                title="Mrs",
                forenames="Karen",
                surname="Whitfield",
                address_lines=("1 Lane",),
                postcode="WA10 5AA",
            ),
            PersonDraft(name="Zoë Łukasiewicz", address_lines=("2 Lane",), postcode="WA10 5AA"),
        ):
            person = services.people.add_person(draft)
            services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
            prepared = services.letters.prepare(case.id, LetterKind.REMOVAL, person.id)
            reader = PdfReader(io.BytesIO(prepared.pdf))
            texts.append(" ".join(" ".join(p.extract_text() for p in reader.pages).split()))
        assert "Dear Mrs Whitfield," in texts[0]
        assert "Dear Zoë Łukasiewicz," in texts[1]
    finally:
        services.close()
