"""Case services on a real SQLite file: references, chronology, conflicts and the list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.domain.categories import Category
from app.domain.errors import ConflictError, NotFoundError, TransitionError, ValidationError
from app.domain.people import CaseRole
from app.domain.records import (
    SORT_KEYS,
    CaseDetail,
    CaseDraft,
    CaseFilter,
    CaseSort,
    PersonDraft,
)
from app.domain.status import CaseStatus
from app.services.casebook import Services
from tests.conftest import case_draft, copy_of_filled

MakeCase = Callable[..., CaseDetail]
Clock = Any  # the conftest clock: .now, .set(moment), .advance(**timedelta)
ACTOR = "Mrs A. Head"  # the conftest actor
A, I, P, S = Category.ABUSIVE, Category.INACCURATE, Category.PROCEDURE, Category.SAFEGUARDING  # noqa: E741


def draft_of(case: CaseDetail, **changes: object) -> CaseDraft:
    """The draft the case screen would send back, with some fields changed."""
    values: dict[str, object] = {
        "title": case.title,
        "categories": case.categories,
        "summary": case.summary,
        "platform": case.platform,
        "post_url": case.post_url,
        "account_handle": case.account_handle,
        "posted_at": case.posted_at,
        "reported_on": case.reported_on,
        "reported_by": case.reported_by,
        "follow_up_due": case.follow_up_due,
    }
    values.update(changes)
    return CaseDraft(**values)  # type: ignore[arg-type]


def kinds(case: CaseDetail) -> list[str]:
    return [e.kind for e in case.events]


# ----- opening and references -------------------------------------------------------


def test_opening_cases_allocates_references_in_turn(make_case: MakeCase) -> None:
    first = make_case()
    second = make_case(title="Second post")
    assert first.reference == "SM-2026-0001"
    assert second.reference == "SM-2026-0002"
    assert first.status == CaseStatus.NEW


def test_a_new_year_restarts_the_numbering(
    services: Services, make_case: MakeCase, clock: Clock
) -> None:
    clock.set(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert make_case().reference == "SM-2026-0001"
    assert make_case().reference == "SM-2026-0002"
    clock.set(datetime(2027, 1, 1, 0, 1, tzinfo=UTC))
    assert make_case().reference == "SM-2027-0001"
    assert services.cases.find_case("SM-2026-0002").title == "Rude comments about the school"


def test_the_year_of_the_reference_is_the_london_year(make_case: MakeCase, clock: Clock) -> None:
    # Midsummer midnight is no year boundary; New Year's Eve at 23:30 UTC is still 2026
    # in London (GMT), so the reference keeps the London calendar.
    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert make_case().reference.startswith("SM-2026-")


def test_opened_case_keeps_every_field(make_case: MakeCase, clock: Clock) -> None:
    posted = datetime(2026, 11, 23, 19, 45, tzinfo=UTC)
    case = make_case(
        title="Photo showing pupils",
        categories={S, A},
        summary="Two children's faces visible.",
        platform="Instagram",
        post_url="https://www.instagram.com/p/X1",
        account_handle="@someone",
        posted_at=posted,
        reported_on=date(2026, 11, 24),
        reported_by="Mrs K. Whitfield",
        follow_up_due=date(2026, 12, 1),
    )
    assert case.title == "Photo showing pupils"
    assert case.categories == frozenset({S, A})
    assert case.posted_at == posted
    assert case.reported_on == date(2026, 11, 24)
    assert case.follow_up_due == date(2026, 12, 1)
    assert case.created_at == clock.now
    assert case.code_version == "1.0"
    assert not case.overdue


def test_an_invalid_case_writes_nothing(services: Services) -> None:
    with pytest.raises(ValidationError):
        services.cases.open_case(CaseDraft(title="", categories=frozenset({A})))
    with pytest.raises(ValidationError):
        services.cases.open_case(CaseDraft(title="No category", categories=frozenset()))
    assert services.cases.count_cases(CaseFilter()) == 0


def test_find_case_by_reference(services: Services, make_case: MakeCase) -> None:
    case = make_case()
    assert services.cases.find_case(" sm-2026-0001 ").id == case.id
    assert services.cases.case_id_for("SM-2026-0001") == case.id
    with pytest.raises(NotFoundError, match="no case with the reference SM-2026-0099"):
        services.cases.find_case("SM-2026-0099")
    with pytest.raises(ValidationError, match="not a case reference"):
        services.cases.find_case("2026/1")
    with pytest.raises(NotFoundError):
        services.cases.get_case(9999)


# ----- the chronology -----------------------------------------------------------------


def test_every_change_appends_to_the_chronology(
    services: Services, make_case: MakeCase, clock: Clock
) -> None:
    opened_at = clock.now
    case = make_case(title="Rumour about staff", categories={I})
    assert kinds(case) == ["case_opened"]
    assert case.events[0].summary == "Case opened: Rumour about staff (Inaccurate)"
    assert case.events[0].actor == ACTOR
    assert case.events[0].at == opened_at

    person = services.people.add_person(PersonDraft(name="Siobhán O'Brien"))

    moments = [clock.advance(minutes=5)]
    case = services.cases.update_case(case.id, draft_of(case, platform="Facebook"))
    moments.append(clock.advance(minutes=5))
    case = services.cases.change_status(case.id, CaseStatus.EVIDENCE_GATHERED, "Screenshots saved")
    moments.append(clock.advance(minutes=5))
    case = services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    moments.append(clock.advance(minutes=5))
    case = services.cases.unlink_person(case.id, person.id, CaseRole.AUTHOR)
    moments.append(clock.advance(minutes=5))
    case = services.cases.add_note(case.id, "Telephoned the parent.\nNo answer.")

    assert kinds(case) == [
        "case_opened",
        "details_changed",
        "status_changed",
        "person_linked",
        "person_unlinked",
        "note",
    ]
    assert [e.at for e in case.events[1:]] == moments
    assert all(e.actor == ACTOR for e in case.events)
    summaries = [e.summary for e in case.events]
    assert summaries[1] == "Details changed: platform"
    assert summaries[2] == "Status changed from New to Evidence gathered: Screenshots saved"
    assert summaries[3] == "Siobhán O'Brien linked as the author of the post"
    assert summaries[4] == "Siobhán O'Brien no longer linked as the author of the post"
    assert summaries[5] == "Telephoned the parent.\nNo answer."
    assert case.last_activity_at == moments[-1]
    assert case.created_at == opened_at


def test_the_actor_is_whoever_the_casebook_was_opened_for(
    services: Services, make_case: MakeCase
) -> None:
    case = make_case()
    services.ctx.actor = "Mr B. Deputy"
    case = services.cases.add_note(case.id, "Checked again.")
    assert [e.actor for e in case.events] == [ACTOR, "Mr B. Deputy"]


def test_update_records_which_fields_changed(services: Services, make_case: MakeCase) -> None:
    case = make_case(platform="Facebook")
    case = services.cases.update_case(
        case.id,
        draft_of(
            case,
            title="New title",
            categories=frozenset({A, P}),
            follow_up_due=date(2026, 12, 4),
        ),
    )
    assert case.title == "New title"
    assert case.categories == frozenset({A, P})
    assert case.follow_up_due == date(2026, 12, 4)
    assert case.events[-1].summary == ("Details changed: title, follow-up date, standards breached")


def test_saving_without_changes_adds_nothing(services: Services, make_case: MakeCase) -> None:
    case = make_case()
    again = services.cases.update_case(case.id, draft_of(case), expected_version=case.version)
    assert kinds(again) == ["case_opened"]
    assert again.version == case.version


def test_invalid_update_changes_nothing(services: Services, make_case: MakeCase) -> None:
    case = make_case(title="Original")
    with pytest.raises(ValidationError):
        services.cases.update_case(case.id, draft_of(case, title="x", post_url="not a url"))
    assert services.cases.get_case(case.id) == case


def test_a_stale_version_is_refused_and_names_who_changed_it(
    services: Services, make_case: MakeCase
) -> None:
    case = make_case()
    services.ctx.actor = "Mr B. Deputy"
    newer = services.cases.update_case(
        case.id, draft_of(case, title="Changed by the deputy"), expected_version=case.version
    )
    assert newer.version > case.version
    services.ctx.actor = ACTOR
    with pytest.raises(ConflictError) as caught:
        services.cases.update_case(
            case.id, draft_of(case, title="Changed by the head"), expected_version=case.version
        )
    assert "SM-2026-0001 was changed by Mr B. Deputy" in caught.value.message
    with pytest.raises(ConflictError):
        services.cases.change_status(
            case.id, CaseStatus.EVIDENCE_GATHERED, expected_version=case.version
        )
    now = services.cases.get_case(case.id)
    assert now.title == "Changed by the deputy"
    assert now.status == CaseStatus.NEW
    assert now.events == newer.events


def test_every_change_moves_the_version_on(
    services: Services, make_case: MakeCase, clock: Clock
) -> None:
    case = make_case()
    person = services.people.add_person(PersonDraft(name="Zoë Łukasiewicz"))
    versions = [case.version]
    clock.advance(minutes=1)
    versions.append(services.cases.change_status(case.id, CaseStatus.LETTER_SENT).version)
    clock.advance(minutes=1)
    versions.append(services.cases.link_person(case.id, person.id, CaseRole.AUTHOR).version)
    clock.advance(minutes=1)
    versions.append(services.cases.add_note(case.id, "Letter posted.").version)
    assert versions == sorted(set(versions))


def test_forbidden_transition_leaves_the_case_alone(
    services: Services, make_case: MakeCase
) -> None:
    case = make_case()
    with pytest.raises(TransitionError) as caught:
        services.cases.change_status(case.id, CaseStatus.RESOLVED, "Too soon")
    assert "Evidence gathered" in caught.value.message
    after = services.cases.get_case(case.id)
    assert after.status == CaseStatus.NEW
    assert after.events == case.events
    assert after.version == case.version


def test_reopening_a_closed_case(services: Services, make_case: MakeCase) -> None:
    case = make_case()
    services.cases.change_status(case.id, CaseStatus.CLOSED_NO_ACTION, "Post already gone")
    case = services.cases.change_status(case.id, CaseStatus.EVIDENCE_GATHERED, "It is back")
    assert case.status == CaseStatus.EVIDENCE_GATHERED
    assert case.events[-1].summary == (
        "Status changed from Closed without action to Evidence gathered: It is back"
    )


def test_empty_note_is_refused(services: Services, make_case: MakeCase) -> None:
    case = make_case()
    with pytest.raises(ValidationError, match="note is empty"):
        services.cases.add_note(case.id, "   ")
    assert kinds(services.cases.get_case(case.id)) == ["case_opened"]


def test_linking_twice_in_the_same_role_is_refused(services: Services, make_case: MakeCase) -> None:
    case = make_case()
    person = services.people.add_person(PersonDraft(name="Дмитрий Соколов"))
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    with pytest.raises(ValidationError, match="already linked"):
        services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    # A second role is fine: the author may also have reported a reply.
    case = services.cases.link_person(case.id, person.id, CaseRole.WITNESS)
    assert [(link.person.name, link.role) for link in case.people] == [
        ("Дмитрий Соколов", CaseRole.AUTHOR),
        ("Дмитрий Соколов", CaseRole.WITNESS),
    ]
    assert case.poster == "Дмитрий Соколов"
    with pytest.raises(NotFoundError):
        services.cases.unlink_person(case.id, person.id, CaseRole.REPORTER)
    with pytest.raises(NotFoundError):
        services.cases.link_person(case.id, 999, CaseRole.REPORTER)


# ----- the case list ----------------------------------------------------------------


def fill_list(services: Services, clock: Clock) -> dict[str, CaseDetail]:
    """Five cases with different posters, platforms, categories, statuses and dates."""

    def make_case(title: str, categories: set[Category], **fields: Any) -> CaseDetail:
        return services.cases.open_case(case_draft(title, categories, **fields))

    zoe = services.people.add_person(PersonDraft(name="Zoë Łukasiewicz"))
    hong = services.people.add_person(PersonDraft(name="Nguyễn Thị Hồng"))
    cases: dict[str, CaseDetail] = {}
    cases["teacher"] = make_case(
        title="Abusive comments about a teacher",
        categories={A},
        platform="Facebook",
        account_handle="@zoe.l",
        follow_up_due=date(2026, 11, 20),
    )
    services.cases.link_person(cases["teacher"].id, zoe.id, CaseRole.AUTHOR)
    clock.advance(hours=1)
    cases["nursery"] = make_case(
        title="Claim that the nursery is closing",
        categories={I},
        platform="Mumsnet",
        account_handle="EcclestonMum22",
        follow_up_due=date(2026, 12, 1),
    )
    clock.advance(hours=1)
    cases["photo"] = make_case(
        title="Sports day photo with names",
        categories={S, P},
        platform="Instagram",
        account_handle="@sportsfan",
        follow_up_due=date(2026, 11, 23),
    )
    services.cases.link_person(cases["photo"].id, hong.id, CaseRole.AUTHOR)
    services.cases.change_status(cases["photo"].id, CaseStatus.EVIDENCE_GATHERED)
    clock.advance(hours=1)
    cases["homework"] = make_case(
        title="Homework complaint thread",
        categories={P},
        platform="X (Twitter)",
        account_handle="@dad_of_three",
        follow_up_due=date(2026, 11, 2),
    )
    services.cases.change_status(cases["homework"].id, CaseStatus.CLOSED_NO_ACTION)
    clock.advance(hours=1)
    cases["rumour"] = make_case(
        title="Rumour about 100% attendance prizes",
        categories={I, A},
        platform="Facebook",
        account_handle="Local Mums",
    )
    return {key: services.cases.get_case(c.id) for key, c in cases.items()}


class Listed(dict[str, CaseDetail]):
    """The five cases of ``fill_list`` by name, and ``services``: a copy of their casebook."""

    def __init__(self, services: Services, cases: dict[str, CaseDetail]) -> None:
        super().__init__(cases)
        self.services = services


@pytest.fixture
def listed(
    request: pytest.FixtureRequest, database_kind: str, clock: Clock, actor: str
) -> Iterator[Listed]:
    """A copy of the casebook of ``fill_list``, its clock where the filling left it."""
    with copy_of_filled(request, fill_list, kind=database_kind, clock=clock, actor=actor) as (
        services,
        cases,
    ):
        yield Listed(services, cases)


def refs(rows: list[object]) -> list[str]:
    return [r.reference for r in rows]  # type: ignore[attr-defined]


def titles_for(services: Services, flt: CaseFilter) -> set[str]:
    return {r.title for r in services.cases.list_cases(flt, CaseSort(), 0, 100)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SM-2026-0003", {"Sports day photo with names"}),
        ("sm-2026-000", None),  # every reference
        ("nursery", {"Claim that the nursery is closing"}),
        ("ZOË", {"Abusive comments about a teacher"}),
        ("łukasiewicz", {"Abusive comments about a teacher"}),
        ("Hồng", {"Sports day photo with names"}),
        ("mumsnet", {"Claim that the nursery is closing"}),
        ("@dad_of", {"Homework complaint thread"}),
        ("facebook teacher", {"Abusive comments about a teacher"}),
        ("100%", {"Rumour about 100% attendance prizes"}),
        ("_", {"Homework complaint thread"}),
        ("nothing matches this", set()),
    ],
)
def test_search_looks_at_reference_title_poster_platform_and_handle(
    listed: Listed, text: str, expected: set[str] | None
) -> None:
    services = listed.services
    found = titles_for(services, CaseFilter(text=text))
    assert found == (expected if expected is not None else {c.title for c in listed.values()})
    assert services.cases.count_cases(CaseFilter(text=text)) == len(found)


def test_status_filter(listed: Listed) -> None:
    services = listed.services
    assert titles_for(services, CaseFilter(statuses=frozenset({CaseStatus.NEW}))) == {
        listed[k].title for k in ("teacher", "nursery", "rumour")
    }
    both = frozenset({CaseStatus.EVIDENCE_GATHERED, CaseStatus.CLOSED_NO_ACTION})
    assert titles_for(services, CaseFilter(statuses=both)) == {
        listed["photo"].title,
        listed["homework"].title,
    }
    assert titles_for(services, CaseFilter(open_only=True)) == {
        listed[k].title for k in ("teacher", "nursery", "photo", "rumour")
    }


@pytest.mark.parametrize(
    ("category", "keys"),
    [
        (A, {"teacher", "rumour"}),
        (I, {"nursery", "rumour"}),
        (P, {"photo", "homework"}),
        (S, {"photo"}),
    ],
)
def test_category_filter(listed: Listed, category: Category, keys: set[str]) -> None:
    services = listed.services
    assert titles_for(services, CaseFilter(category=category)) == {listed[k].title for k in keys}


def test_overdue_means_past_due_and_still_open(listed: Listed) -> None:
    services = listed.services
    # Today is 24/11/2026: the teacher (20/11) and photo (23/11) cases are late; the
    # homework case (02/11) is closed, so it is not.
    overdue = services.cases.list_cases(CaseFilter(overdue_only=True), CaseSort(), 0, 100)
    assert {r.title for r in overdue} == {listed["teacher"].title, listed["photo"].title}
    assert all(r.overdue for r in overdue)
    assert listed["teacher"].overdue
    assert not listed["homework"].overdue
    assert not listed["nursery"].overdue


def test_overdue_uses_the_london_date(
    services: Services, make_case: MakeCase, clock: Clock
) -> None:
    clock.set(datetime(2026, 6, 10, 12, 0, tzinfo=UTC))
    case = make_case(follow_up_due=date(2026, 6, 10))
    overdue_only = CaseFilter(overdue_only=True)
    # 23:30 UTC on 10 June is 00:30 on 11 June in London (BST): the case is now late.
    clock.set(datetime(2026, 6, 10, 22, 59, tzinfo=UTC))
    assert services.cases.count_cases(overdue_only) == 0
    assert not services.cases.get_case(case.id).overdue
    clock.set(datetime(2026, 6, 10, 23, 30, tzinfo=UTC))
    assert services.cases.count_cases(overdue_only) == 1
    assert services.cases.get_case(case.id).overdue
    assert services.cases.counts(CaseFilter()).overdue == 1


def test_filters_combine(listed: Listed) -> None:
    services = listed.services
    flt = CaseFilter(text="facebook", category=I, statuses=frozenset({CaseStatus.NEW}))
    assert titles_for(services, flt) == {listed["rumour"].title}


def _sort_value(row: object, key: str) -> object:
    value = getattr(row, key)
    if key == "categories":
        return ",".join(sorted(c.value for c in value))
    if key == "status":
        return value.value
    return value


@pytest.mark.parametrize("key", SORT_KEYS)
@pytest.mark.parametrize("descending", [False, True])
def test_sorting_by_each_column(listed: Listed, key: str, descending: bool) -> None:
    services = listed.services
    rows = services.cases.list_cases(CaseFilter(), CaseSort(key, descending), 0, 100)
    assert len(rows) == 5
    values = [_sort_value(r, key) for r in rows]
    present = [v for v in values if v is not None and v != ""]
    assert present == sorted(present, reverse=descending), values  # type: ignore[type-var]
    ids = services.cases.all_case_ids(CaseFilter(), CaseSort(key, descending))
    assert ids == [r.id for r in rows]


def test_poster_column_shows_the_author_or_else_the_handle(listed: Listed) -> None:
    services = listed.services
    rows = services.cases.list_cases(CaseFilter(), CaseSort("poster", False), 0, 100)
    posters = [r.poster for r in rows]
    assert set(posters) == {
        "Zoë Łukasiewicz",
        "EcclestonMum22",
        "Nguyễn Thị Hồng",
        "@dad_of_three",
        "Local Mums",
    }
    assert posters == sorted(posters)


def test_sorting_by_an_unknown_column_is_refused(services: Services) -> None:
    with pytest.raises(ValidationError, match="Cannot sort by 'colour'"):
        services.cases.list_cases(CaseFilter(), CaseSort("colour"), 0, 10)


def test_paging_through_the_list(listed: Listed) -> None:
    services = listed.services
    by_ref = CaseSort("reference", False)
    pages = [services.cases.list_cases(CaseFilter(), by_ref, offset, 2) for offset in (0, 2, 4)]
    assert [refs(p) for p in pages] == [
        ["SM-2026-0001", "SM-2026-0002"],
        ["SM-2026-0003", "SM-2026-0004"],
        ["SM-2026-0005"],
    ]


def test_default_order_is_latest_activity_first(listed: Listed, clock: Clock) -> None:
    services = listed.services
    clock.advance(hours=1)
    services.cases.add_note(listed["nursery"].id, "Governors told.")
    rows = services.cases.list_cases(CaseFilter(), CaseSort(), 0, 100)
    assert rows[0].title == listed["nursery"].title
    assert rows[0].last_activity_at == clock.now


def test_counts(listed: Listed) -> None:
    services = listed.services
    counts = services.cases.counts(CaseFilter(category=A))
    assert (counts.shown, counts.total, counts.open, counts.overdue) == (2, 5, 4, 2)
    empty = services.cases.counts(CaseFilter(text="nothing matches this"))
    assert empty.shown == 0
    assert empty.total == 5


def test_rows_carry_what_the_list_shows(listed: Listed) -> None:
    services = listed.services
    (row,) = services.cases.list_cases(CaseFilter(text="SM-2026-0003"), CaseSort(), 0, 10)
    assert row.reference == "SM-2026-0003"
    assert row.poster == "Nguyễn Thị Hồng"
    assert row.platform == "Instagram"
    assert row.categories == frozenset({S, P})
    assert row.status == CaseStatus.EVIDENCE_GATHERED
    assert row.follow_up_due == date(2026, 11, 23)
    assert row.overdue
