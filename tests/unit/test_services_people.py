"""People: full Unicode names kept exactly, matched by name without guessing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.domain.errors import NotFoundError, ValidationError
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDetail, CaseFilter, CaseSort, PersonDraft
from app.services.casebook import Services
from tests.conftest import reopen

MakeCase = Callable[..., CaseDetail]
NAMES = ["Zoë Łukasiewicz", "Nguyễn Thị Hồng", "Siobhán O'Brien", "Дмитрий Соколов"]


def test_full_unicode_names_survive_the_database(
    services: Services, database_url: str | None
) -> None:
    added = [services.people.add_person(PersonDraft(name=name)) for name in NAMES]
    assert [p.name for p in added] == NAMES
    services.close()
    reopened = reopen(services)
    try:
        assert [reopened.people.get_person(p.id).name for p in added] == NAMES
    finally:
        reopened.close()


def test_every_detail_is_kept(services: Services) -> None:
    person = services.people.add_person(
        PersonDraft(
            name="Siobhán O'Brien",
            kind=PersonKind.CARER,
            address_lines=("27 Fictional Road", "Rainford", "St Helens"),
            postcode="wa11 8zz",
            email="siobhan@example.net",
            phone="01744 000000",
            relationship="Grandmother of a Reception pupil",
        )
    )
    again = services.people.get_person(person.id)
    assert again == person
    assert again.kind == PersonKind.CARER
    assert again.address_lines == ("27 Fictional Road", "Rainford", "St Helens")
    assert again.postcode == "WA11 8ZZ"


def test_bad_details_write_nothing(services: Services) -> None:
    with pytest.raises(ValidationError, match="not a UK postcode"):
        services.people.add_person(PersonDraft(name="A Parent", postcode="12345"))
    assert services.people.search_people("") == []


def test_search_is_case_insensitive_and_unicode_aware(services: Services) -> None:
    for name in NAMES:
        services.people.add_person(PersonDraft(name=name))
    assert [p.name for p in services.people.search_people("ŁUKASIEWICZ")] == [NAMES[0]]
    assert [p.name for p in services.people.search_people("соколов")] == [NAMES[3]]
    assert [p.name for p in services.people.search_people("o'brien")] == [NAMES[2]]
    assert len(services.people.search_people("")) == 4
    assert services.people.search_people("%") == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("zoë łukasiewicz", "Zoë Łukasiewicz"),
        ("  NGUYỄN   THỊ HỒNG ", "Nguyễn Thị Hồng"),
        ("siobhán o'brien", "Siobhán O'Brien"),
        ("ДМИТРИЙ СОКОЛОВ", "Дмитрий Соколов"),
    ],
)
def test_match_or_create_finds_the_same_person(services: Services, typed: str, stored: str) -> None:
    existing = services.people.add_person(PersonDraft(name=stored))
    assert services.people.match_or_create(typed) == existing
    assert len(services.people.search_people("")) == 1


def test_match_or_create_adds_a_new_person(services: Services) -> None:
    services.people.add_person(PersonDraft(name="Zoë Łukasiewicz"))
    new = services.people.match_or_create("Zoe Lukasiewicz", PersonKind.VISITOR)
    assert new.name == "Zoe Lukasiewicz"
    assert new.kind == PersonKind.VISITOR
    assert len(services.people.search_people("")) == 2


def test_match_or_create_refuses_to_guess(services: Services) -> None:
    services.people.add_person(PersonDraft(name="Siobhán O'Brien", relationship="Mother"))
    services.people.add_person(PersonDraft(name="siobhán o'brien", relationship="Aunt"))
    with pytest.raises(ValidationError, match="More than one person is called"):
        services.people.match_or_create("Siobhán O'Brien")
    assert len(services.people.search_people("")) == 2
    with pytest.raises(ValidationError, match="person's name"):
        services.people.match_or_create("   ")


def test_update_person(services: Services) -> None:
    person = services.people.add_person(PersonDraft(name="Nguyen Thi Hong"))
    changed = services.people.update_person(
        person.id, PersonDraft(name="Nguyễn Thị Hồng", email="hong@example.org")
    )
    assert changed.name == "Nguyễn Thị Hồng"
    assert services.people.match_or_create("nguyễn thị hồng").id == person.id
    with pytest.raises(NotFoundError):
        services.people.update_person(999, PersonDraft(name="Nobody"))
    with pytest.raises(NotFoundError):
        services.people.get_person(999)


def test_a_renamed_author_shows_in_the_case_list(services: Services, make_case: MakeCase) -> None:
    case = make_case(account_handle="@hong")
    person = services.people.add_person(PersonDraft(name="Nguyen Thi Hong"))
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    services.people.update_person(person.id, PersonDraft(name="Nguyễn Thị Hồng"))
    (row,) = services.cases.list_cases(CaseFilter(text="Nguyễn"), CaseSort(), 0, 10)
    assert row.poster == "Nguyễn Thị Hồng"
    assert services.cases.get_case(case.id).poster == "Nguyễn Thị Hồng"


def test_unlinking_the_author_shows_the_handle_again(
    services: Services, make_case: MakeCase
) -> None:
    case = make_case(account_handle="@zoe.l")
    person = services.people.add_person(PersonDraft(name="Zoë Łukasiewicz"))
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    services.cases.unlink_person(case.id, person.id, CaseRole.AUTHOR)
    (row,) = services.cases.list_cases(CaseFilter(), CaseSort(), 0, 10)
    assert row.poster == "@zoe.l"
    # (Not "Zoë": search ignores accents, and "zoe" is in the handle.)
    assert services.cases.count_cases(CaseFilter(text="Łukasiewicz")) == 0
    # The person's record is kept for other cases.
    assert services.people.get_person(person.id).name == "Zoë Łukasiewicz"


def test_a_post_is_never_put_down_to_a_pupil_who_shares_the_authors_name(
    services: Services,
) -> None:
    from app.domain.categories import Category
    from app.domain.people import CaseRole
    from app.domain.records import CaseDraft

    pupil = services.people.add_person(PersonDraft(name="Sam Example", kind=PersonKind.PUPIL))
    case = services.cases.open_case(
        CaseDraft(title="Post", categories=frozenset({Category.ABUSIVE})), author="Sam Example"
    )
    (link,) = [link for link in case.people if link.role is CaseRole.AUTHOR]
    assert link.person.id != pupil.id and link.person.kind is PersonKind.PARENT
