"""Cases joined up by person, account handle and post address; repeated authors counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.domain.access import Role
from app.domain.categories import Category
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, CaseFilter, CaseSort, PersonDraft
from app.services.casebook import Services, open_casebook
from tests.conftest import Clock


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = open_casebook(tmp_path / "data", clock=Clock())
    s.users.create_first_user("head", "correct horse battery")
    s.users.add_user("office", Role.OFFICE, "paper staple lantern")
    s.users.sign_in("head", "correct horse battery")
    yield s
    s.close()


def _case(services: Services, title: str, safeguarding: bool = False, **extra: str) -> int:
    category = Category.SAFEGUARDING if safeguarding else Category.ABUSIVE
    return services.cases.open_case(
        CaseDraft(title=title, categories=frozenset({category}), **extra)
    ).id


def test_other_cases_about_the_same_person_handle_or_post(services: Services) -> None:
    dale = services.people.add_person(PersonDraft(name="Dale Pike"))
    pupil = services.people.add_person(PersonDraft(name="Amelia Hart", kind=PersonKind.PUPIL))
    first = _case(services, "First post", account_handle="@DalePike",
                  post_url="https://www.facebook.com/groups/1/posts/2")  # fmt: skip
    second = _case(services, "Second post")
    third = _case(services, "Third post", account_handle="dalepike")
    fourth = _case(services, "Fourth post", post_url="https://facebook.com/groups/1/posts/2/")
    fifth = _case(services, "Fifth post")
    unrelated = _case(services, "Other post")
    services.cases.link_person(first, dale.id, CaseRole.AUTHOR)
    services.cases.link_person(second, dale.id, CaseRole.AUTHOR)
    services.cases.link_person(first, pupil.id, CaseRole.SUBJECT)
    services.cases.link_person(fifth, pupil.id, CaseRole.SUBJECT)
    for case_id in (first, unrelated):  # reporting two posts does not join them up
        services.cases.link_person(case_id, dale.id, CaseRole.REPORTER)
    related = {r.reference: r.reasons for r in services.joined_up.related_cases(first)}
    assert related == {
        "SM-2026-0002": ("same person: Dale Pike",),
        "SM-2026-0003": ("same account: @DalePike",),
        "SM-2026-0004": ("same post address",),
        "SM-2026-0005": ("same person: Amelia Hart",),
    }
    assert third and fourth
    offered = services.joined_up.related_to(handle="@dalepike")
    assert [r.reference for r in offered] == ["SM-2026-0003", "SM-2026-0001"]


def test_office_staff_never_learn_of_a_safeguarding_case_this_way(services: Services) -> None:
    dale = services.people.add_person(PersonDraft(name="Dale Pike"))
    open_case = _case(services, "Open post", account_handle="@dale")
    sealed = _case(services, "Sealed post", safeguarding=True, account_handle="@dale")
    services.cases.link_person(open_case, dale.id, CaseRole.AUTHOR)
    services.cases.link_person(sealed, dale.id, CaseRole.AUTHOR)
    head_view = services.joined_up.related_cases(open_case)
    assert [r.id for r in head_view] == [sealed]
    flt = CaseFilter(repeat_authors_only=True)
    assert services.cases.count_cases(flt) == 2
    services.users.sign_in("office", "paper staple lantern")
    assert services.joined_up.related_cases(open_case) == []
    assert [r.id for r in services.joined_up.related_to(handle="@dale")] == [open_case]
    assert services.cases.count_cases(flt) == 0  # Dale's only other case is sealed


def test_repeated_authors_filter_and_governors_count(services: Services) -> None:
    people = [
        services.people.add_person(PersonDraft(name=n)) for n in ("A One", "B Two", "C Three")
    ]
    cases = [_case(services, f"Post {i}") for i in range(6)]
    for person, case_ids in (
        (people[0], cases[:3]),
        (people[1], cases[3:5]),
        (people[2], cases[5:]),
    ):
        for case_id in case_ids:
            services.cases.link_person(case_id, person.id, CaseRole.AUTHOR)
    rows = services.cases.list_cases(CaseFilter(repeat_authors_only=True), CaseSort(), 0, 100)
    assert len(rows) == 5
    report = services.reports.governors_report(date(2026, 9, 1), date(2026, 12, 31), threshold=2)
    assert report.repeat_authors is not None and report.repeat_authors.count == 2
    hidden = services.reports.governors_report(date(2026, 9, 1), date(2026, 12, 31), threshold=3)
    assert hidden.repeat_authors is not None and hidden.repeat_authors.text == "fewer than 3"
    csv_text = services.reports.governors_csv(report)
    assert "people with more than one case,2" in csv_text


def test_a_sealed_cases_handle_and_address_are_matched_as_they_are_now(
    services: Services,
) -> None:
    """The sealed cases' handles and addresses are opened once each; a changed one is
    matched as it now reads, the old one no longer."""
    sealed = _case(services, "Sealed post", safeguarding=True, account_handle="@dale",
                   post_url="https://example.org/p/1")  # fmt: skip
    open_case = _case(services, "Open post", account_handle="@dale")
    other = _case(services, "Other post", post_url="https://example.org/p/2")
    assert [r.id for r in services.joined_up.related_cases(open_case)] == [sealed]
    assert services.joined_up.related_cases(other) == []
    draft = CaseDraft(
        title="Sealed post",
        categories=frozenset({Category.SAFEGUARDING}),
        account_handle="@someone.else",
        post_url="https://example.org/p/2",
    )
    services.cases.update_case(sealed, draft)
    assert services.joined_up.related_cases(open_case) == []
    assert [(r.id, r.reasons) for r in services.joined_up.related_cases(other)] == [
        (sealed, ("same post address",))
    ]
