"""The fictional demonstration casebook."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.categories import Category
from app.domain.dates import london_today
from app.domain.errors import ValidationError
from app.domain.records import CaseFilter, CaseSort
from app.domain.status import CaseStatus, is_open
from app.services.casebook import Services, open_casebook
from app.services.demo import CASES, DEMO_ACTOR, create_demo, is_demo, is_empty
from tests.conftest import ACTOR, Clock

UNICODE_NAMES = {"Zoë Łukasiewicz", "Nguyễn Thị Hồng", "Siobhán O'Brien", "Дмитрий Соколов"}


# When the module's demonstration is made: 23:30 UTC in June is already the next day in
# London, which test_demo_due_dates_count_from_the_london_date needs.
LATE_JUNE = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)


@dataclass
class Demo:
    """A new casebook just given the demonstration by ``create_demo``, and what was seen
    around that call."""

    services: Services
    made: int
    empty_before: bool
    demo_before: bool
    clock_before: Callable[[], datetime]
    drop: Callable[[str], None] | None  # a server's database, once the module is done


@pytest.fixture(scope="module")
def demos() -> Iterator[dict[str, Demo]]:
    """One demonstration casebook per database for this module's tests that only read it
    (making one was most of their time); closed, and a server's database dropped, at the end."""
    made: dict[str, Demo] = {}
    yield made
    for demo in made.values():
        demo.services.close()
        if demo.drop is not None and demo.services.database_url is not None:
            demo.drop(demo.services.database_url)


@pytest.fixture
def demo(request: pytest.FixtureRequest, demos: dict[str, Demo], database_kind: str) -> Demo:
    """The demonstration casebook on this test's database, made on first use."""
    if database_kind not in demos:
        folder = request.getfixturevalue("tmp_path_factory").mktemp("demo") / "casebook"
        url, drop = None, None
        if database_kind == "postgresql":
            server = request.getfixturevalue("postgres_server")
            url, drop = server.new_database(), server.drop_database
        services = open_casebook(folder, actor=ACTOR, clock=Clock(LATE_JUNE), database_url=url)
        empty_before, demo_before, clock_before = (
            is_empty(services),
            is_demo(services),
            services.ctx.clock,
        )
        made = create_demo(services)
        demos[database_kind] = Demo(services, made, empty_before, demo_before, clock_before, drop)
    return demos[database_kind]


def test_demo_covers_the_whole_code_and_workflow(demo: Demo) -> None:
    services, made = demo.services, demo.made
    assert demo.empty_before
    assert not demo.demo_before
    assert 10 <= made <= 16
    rows = services.cases.list_cases(CaseFilter(), CaseSort("reference", False), 0, 100)
    assert len(rows) == made
    assert [r.reference for r in rows] == [f"SM-2026-{n:04d}" for n in range(1, made + 1)]
    assert set().union(*(r.categories for r in rows)) == set(Category)
    assert len({r.platform for r in rows}) >= 4
    statuses = {r.status for r in rows}
    assert len(statuses) >= 6
    assert {CaseStatus.NEW, CaseStatus.RESOLVED, CaseStatus.CLOSED_NO_ACTION} <= statuses
    overdue = [r for r in rows if r.overdue]
    assert 2 <= len(overdue) < made
    assert {p.name for p in services.people.search_people("")} >= UNICODE_NAMES
    assert {r.poster for r in rows} >= UNICODE_NAMES
    assert is_demo(services)
    assert not is_empty(services)


def test_demo_chronologies_follow_the_workflow_and_leave_the_actor_and_clock(
    demo: Demo, actor: str
) -> None:
    services = demo.services
    # The demonstration records its own actor and times; the casebook's are as they were.
    assert services.ctx.actor == actor
    assert services.ctx.clock is demo.clock_before
    for row in services.cases.list_cases(CaseFilter(), CaseSort(), 0, 100):
        case = services.cases.get_case(row.id)
        assert case.events[0].kind == "case_opened"
        assert all(e.actor == DEMO_ACTOR for e in case.events)
        changes = [e for e in case.events if e.kind == "status_changed"]
        assert (not changes) == (case.status == CaseStatus.NEW)
        times = [e.at for e in case.events]
        assert times == sorted(times)
        assert times[-1] <= services.ctx.now()
        if case.posted_at is not None:
            assert case.posted_at <= case.created_at


def test_demo_refuses_a_casebook_that_holds_cases(services: Services, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case()
    with pytest.raises(ValidationError, match="already holds cases"):
        create_demo(services)
    assert services.cases.count_cases(CaseFilter()) == 1
    assert services.people.search_people("") == []
    assert not is_demo(services)


def test_demo_due_dates_count_from_the_london_date(demo: Demo) -> None:
    # 23:30 UTC in June is already tomorrow in London: "due today" must not show as late.
    services = demo.services
    assert services.ctx.now() == LATE_JUNE
    today = london_today(services.ctx.now())
    assert today == LATE_JUNE.date() + timedelta(days=1)
    rows = services.cases.list_cases(CaseFilter(), CaseSort("reference", False), 0, 100)
    expected_due = [
        today + timedelta(days=demo.follow_up) if demo.follow_up is not None else None
        for demo in CASES
    ]
    assert [r.follow_up_due for r in rows] == expected_due
    late = [
        demo.title
        for demo in CASES
        if demo.follow_up is not None and demo.follow_up < 0 and is_open(demo.status)
    ]
    assert [r.title for r in rows if r.overdue] == late
