"""The case list's ways of staying quick at a million cases, checked for the same answers.

Keyset pages, a case's position, bounded counts and one- or two-letter searches must give
exactly what reading the whole list would; and the queries the window runs at start-up are
served by indexes (``EXPLAIN QUERY PLAN``: no full scan of the cases table, no sort of it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app.domain.categories import Category
from app.domain.records import SORT_KEYS, CaseDetail, CaseFilter, CaseSort
from app.domain.status import CaseStatus
from app.services.casebook import Services, open_casebook
from tests.conftest import ACTOR, Clock, SavedCasebook, case_draft
from tests.sealed_search import head_with_sealed_case, search

MakeCase = Callable[..., CaseDetail]
TITLES = [
    "Sports day photo",
    "Post about the school trip #4",
    "Rumour about #42 staff",
    "Claim about the nursery",
    "Comments on a teacher",
    "Homework complaint #14",
]
HANDLES = ["@Łukasiewicz", "@sokolov", "@dad_of_three", "", "@Zoë", "@mum4"]
PLATFORMS = ["Facebook", "X (Twitter)", "Facebook", "TikTok"]


def fill_many(services: Services) -> list[CaseDetail]:
    """Twenty-three cases with ties, empty follow-up dates and handles, in several statuses."""
    made = []
    for number in range(23):
        due = date(2026, 12, 1) + timedelta(days=number % 5) if number % 3 else None
        case = services.cases.open_case(
            case_draft(
                f"{TITLES[number % len(TITLES)]} {number}",
                {Category.ABUSIVE} if number % 2 else {Category.INACCURATE},
                platform=PLATFORMS[number % len(PLATFORMS)],
                account_handle=HANDLES[number % len(HANDLES)],
                follow_up_due=due,
            )
        )
        if number % 4 == 0:
            services.cases.change_status(case.id, CaseStatus.EVIDENCE_GATHERED)
        made.append(case)
    return made


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[SavedCasebook, list[CaseDetail]]:
    """The cases made once for this module's tests, each of which gets a copy."""
    folder = tmp_path_factory.mktemp("many") / "casebook"
    services = open_casebook(folder, actor=ACTOR, clock=Clock())
    try:
        made = fill_many(services)
    except BaseException:
        services.close()
        raise
    return SavedCasebook(services), made


@pytest.fixture
def services(
    filled: tuple[SavedCasebook, list[CaseDetail]], data_dir: Path, clock: Clock, actor: str
) -> Iterator[Services]:
    """A copy of the module's casebook, holding the cases of ``many``."""
    copy = filled[0].copy_to(data_dir, actor=actor, clock=clock)
    try:
        yield copy
    finally:
        copy.close()


@pytest.fixture
def many(filled: tuple[SavedCasebook, list[CaseDetail]]) -> list[CaseDetail]:
    """The cases of ``fill_many``, as they were made."""
    return filled[1]


def keyset_pages(services: Services, flt: CaseFilter, sort: CaseSort, size: int) -> list[int]:
    """Every id of the list, read a page at a time onwards from the last case of each."""
    ids: list[int] = [r.id for r in services.cases.list_cases(flt, sort, 0, size)]
    while True:
        page = services.cases.list_cases(flt, sort, limit=size, after=ids[-1])
        if not page:
            return ids
        ids += [r.id for r in page]


def test_keyset_pages_and_positions_match_the_whole_list(
    services: Services, many: list[CaseDetail]
) -> None:
    for key in SORT_KEYS:
        for descending in (False, True):
            check_keyset(services, many, CaseSort(key, descending))


def check_keyset(services: Services, many: list[CaseDetail], sort: CaseSort) -> None:
    key, descending = sort.key, sort.descending
    for flt in (CaseFilter(), CaseFilter(open_only=True)):
        every = services.cases.all_case_ids(flt, sort)
        assert services.cases.pages_by_keyset(sort)
        assert keyset_pages(services, flt, sort, 4) == every
        for position, case_id in enumerate(every):
            assert services.cases.position_of_case(flt, sort, case_id) == position
        backwards = CaseSort(key, not descending)
        middle = every[len(every) // 2]
        before = services.cases.list_cases(flt, backwards, limit=3, after=middle)
        assert [r.id for r in reversed(before)] == every[len(every) // 2 - 3 : len(every) // 2]
        from_it = services.cases.list_cases(flt, sort, limit=2, after=middle, include_after=True)
        assert [r.id for r in from_it] == every[len(every) // 2 : len(every) // 2 + 2]
    gathered = CaseFilter(statuses=frozenset({CaseStatus.EVIDENCE_GATHERED}))
    left_out = next(c.id for c in many if c.id not in services.cases.all_case_ids(gathered, sort))
    assert services.cases.position_of_case(gathered, sort, left_out) is None


def test_a_bounded_count_stops_just_past_its_bound(
    services: Services, many: list[CaseDetail]
) -> None:
    assert services.cases.count_cases(CaseFilter()) == 23
    assert services.cases.count_cases(CaseFilter(), bound=5) == 6
    assert services.cases.count_cases(CaseFilter(), bound=100) == 23
    open_cases = services.cases.count_cases(CaseFilter(open_only=True))
    assert services.cases.count_cases(CaseFilter(open_only=True), bound=100) == open_cases


def _found(services: Services, text: str) -> set[str]:
    flt = CaseFilter(text=text)
    rows = services.cases.list_cases(flt, CaseSort(), 0, 100)
    assert services.cases.count_cases(flt) == len(rows)
    return {r.title for r in rows}


def _words_start(title: str, handle: str, text: str) -> bool:
    words = f"{title} {handle}".casefold().replace("#", " ").replace("@", " ").replace("_", " ")
    return any(word.startswith(text) for word in words.split())


@pytest.mark.parametrize(
    ("text", "folded"),
    [("s", "s"), ("so", "so"), ("Ł", "l"), ("ZO", "zo"), ("14", "14"), ("m", "m")],
)
def test_one_or_two_letters_find_cases_with_a_word_beginning_with_them(
    services: Services, many: list[CaseDetail], text: str, folded: str
) -> None:
    # Titles, handles and platforms of the fixture are plain except for Ł and ë, folded here.
    def plain(value: str) -> str:
        return value.replace("Ł", "L").replace("ë", "e")

    expected = {
        c.title
        for c in many
        if _words_start(plain(f"{c.title} {c.platform}"), plain(c.account_handle), folded)
        or c.reference.casefold().startswith(folded)
    }
    assert expected, "the fixture should hold a match for every search here"
    assert _found(services, text) == expected


def test_short_searches_with_punctuation_are_exact(
    services: Services, many: list[CaseDetail]
) -> None:
    assert _found(services, "#4") == {c.title for c in many if "#4" in c.title}
    assert _found(services, "#4 "), "a trailing space is not part of the term"
    assert _found(services, "_") == {c.title for c in many if "_" in c.account_handle}
    assert _found(services, "#9") == set()


def test_the_list_model_reads_onwards_and_finds_a_far_case(
    services: Services, many: list[CaseDetail], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("PySide6")
    from app.ui.models import case_table

    monkeypatch.setattr(case_table, "PAGE_SIZE", 3)
    monkeypatch.setattr(case_table, "MAX_PAGES", 2)
    monkeypatch.setattr(case_table, "COUNT_BOUND", 7)
    model = case_table.CaseTableModel(services.cases)
    model.reload()
    every = services.cases.all_case_ids(CaseFilter(), CaseSort())
    assert model.rowCount() == 23 and not model.more_than_counted
    assert [model.case_at(r).id for r in range(23)] == every  # type: ignore[union-attr]
    assert [model.case_at(r).id for r in reversed(range(23))] == every[::-1]  # type: ignore[union-attr]
    model.set_filter(CaseFilter(text="s"))  # every reference begins "SM-": counted to 7
    matching = services.cases.all_case_ids(CaseFilter(text="s"), CaseSort())
    assert len(matching) > 8
    assert model.rowCount() == 7 and model.more_than_counted and model.canFetchMore()
    far = matching[-1]
    position = services.cases.position_of_case(CaseFilter(text="s"), CaseSort(), far)
    model.place_case(far, position)  # type: ignore[arg-type]
    assert model.rowCount() == len(matching) and not model.more_than_counted
    assert model.case_at(position).id == far  # type: ignore[arg-type,union-attr]
    assert model.row_of_case(far) == position


@contextmanager
def statements(services: Services) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements the services run inside the block, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append((sql, params))

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(services.engine, "before_cursor_execute", record)


def test_start_up_queries_are_served_by_indexes(
    services: Services, many: list[CaseDetail], monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """What the window runs on its hot paths: at start (counts, first page), while
    scrolling (the next page onwards), typing (rare and common words, one or two letters
    and longer), changing a filter, and selecting a case far down the list (its place, its
    page read both ways from it, its joined-up cases): no full scan of the cases, no sort of
    them."""
    from app.db.sealing import seal_outstanding
    from app.services import cases as cases_module

    flt, sort = CaseFilter(), CaseSort()
    gathered = CaseFilter(statuses=frozenset({CaseStatus.EVIDENCE_GATHERED}))
    backwards = CaseSort(sort.key, not sort.descending)
    with statements(services) as seen:
        services.cases.counts(flt)  # start-up
        services.cases.prepare_search()  # the sealed cases' words, a second after it
        with services.ctx.sessions() as session:  # a head's sign-in seals what is left
            seal_outstanding(session, ())
        first = services.cases.list_cases(flt, sort, 0, 5)
        services.cases.list_cases(flt, sort, limit=5, after=first[-1].id)  # scrolling
        for text in ("s", "#4", "zo", "nursery", "about the"):  # typing: rare words
            services.cases.list_cases(CaseFilter(text=text), sort, 0, 5)
            services.cases.count_cases(CaseFilter(text=text), bound=1000)
        for changed in (CaseFilter(overdue_only=True), CaseFilter(open_only=True), gathered):
            services.cases.list_cases(changed, sort, 0, 5)  # a filter changed
            services.cases.count_cases(changed, bound=1000)
        for shown in (flt, gathered):  # selecting a case far down the list
            services.cases.position_of_case(shown, sort, many[-4].id)
        services.cases.list_cases(flt, backwards, limit=3, after=many[3].id)
        services.cases.list_cases(flt, sort, limit=3, after=many[3].id, include_after=True)
        services.joined_up.related_cases(many[1].id)
        # Common words (the list walked in its order, the count driven by the index).
        monkeypatch.setattr(cases_module, "WALK_DENSITY", 10**9)  # any match: walked
        services.cases._walkable_terms.clear()  # the answers kept from before
        for text in ("s", "#4", "post", "about the"):
            services.cases.list_cases(CaseFilter(text=text), sort, 0, 5)
            services.cases.count_cases(CaseFilter(text=text), bound=3)
        # Words found in many cases but not walked ("#42" over a million cases): the page
        # read through the sort's index, each case looked up among the matches.
        monkeypatch.setattr(cases_module, "WALK_DENSITY", 0)  # never walked
        monkeypatch.setattr(cases_module, "COMMON_MATCHES", 1)  # any match is many
        services.cases._walkable_terms.clear()
        for text in ("#42", "#4", "post", "zo"):
            page = services.cases.list_cases(CaseFilter(text=text), sort, 0, 5)
            services.cases.count_cases(CaseFilter(text=text), bound=3)
            services.cases.list_cases(CaseFilter(text=text), sort, limit=5, after=page[-1].id)
        # Most cases overdue (their follow-up dates passed): "overdue only" read in order.
        clock.advance(days=30)
        for overdue in (
            CaseFilter(overdue_only=True),
            CaseFilter(overdue_only=True, open_only=True),
        ):
            page = services.cases.list_cases(overdue, sort, 0, 5)
            services.cases.list_cases(overdue, sort, limit=5, after=page[-1].id)
    assert len(seen) >= 30
    with services.engine.connect() as connection:
        for sql, params in seen:
            explained = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[-1] for row in explained]
            for step in plan:
                full_scan = step.startswith("SCAN cases") and "INDEX" not in step
                assert not full_scan, f"{step} in the plan of\n{sql}"
                # Reading a whole index is a full scan too, unless a page's LIMIT stops it.
                whole_index = step.startswith("SCAN cases USING COVERING INDEX")
                assert not (whole_index and "LIMIT" not in sql), f"{step} in the plan of\n{sql}"
                # A search sorts what it found, a range of an index what it holds (a few
                # overdue cases); the whole list, read through an index, is never sorted.
                sorted_all = (
                    "TEMP B-TREE FOR ORDER BY" in step
                    and "MATCH" not in sql
                    and any(other.startswith("SCAN cases") for other in plan)
                )
                assert not sorted_all, f"a sort in the plan of\n{sql}"
                # A page of a word found in many cases, or of "overdue only" when many
                # cases are overdue, is read in list order, not sorted.
                if "+cases.id IN" in sql or "+cases.follow_up_due" in sql:
                    assert "TEMP B-TREE FOR ORDER BY" not in step, f"a sort in\n{sql}"
                    read = (
                        "SCAN cases USING INDEX ix_cases_",
                        "SEARCH cases USING INDEX ix_cases_",
                    )
                    assert plan[0].startswith(read), f"{plan[0]} in the plan of\n{sql}"
    assert any("+cases.id IN" in sql for sql, _params in seen)
    assert any("+cases.follow_up_due" in sql for sql, _params in seen)


@pytest.mark.parametrize(
    "text", ["s", "so", "Ł", "zo", "14", "#4", "#42", "post", "ABOUT the", "łuk", "x (tw"]
)
def test_a_common_search_walked_in_list_order_finds_what_the_indexes_find(
    services: Services, many: list[CaseDetail], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """Over a million cases a common word is tested case by case as the list is read in its
    order (``term_in_text``); it must find exactly the cases the search indexes find."""
    from app.services import cases as cases_module

    flt = CaseFilter(text=text)
    monkeypatch.setattr(cases_module, "WALK_DENSITY", 0)  # never walked: the indexes answer
    expected = {
        key: [r.id for r in services.cases.list_cases(flt, CaseSort(key), 0, 100)]
        for key in ("last_activity_at", "reference", "title")
    }
    counted = services.cases.count_cases(flt)
    assert not services.cases._walkable(flt)
    monkeypatch.setattr(cases_module, "WALK_DENSITY", 10**9)  # any match: walked
    services.cases._walkable_terms.clear()  # the answers kept from before
    if expected["reference"]:
        assert services.cases._walkable(flt)
    for key, ids in expected.items():
        assert [r.id for r in services.cases.list_cases(flt, CaseSort(key), 0, 100)] == ids
    assert services.cases.count_cases(flt, bound=100) == counted
    assert services.cases.count_cases(flt, bound=1) == min(counted, 2)


@pytest.mark.parametrize("text", ["s", "Ł", "zo", "14", "#4", "#42", "post", "łuk", "x (tw"])
def test_a_word_found_in_many_cases_read_in_list_order_finds_what_sorting_finds(
    services: Services, many: list[CaseDetail], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """A word in thousands of cases but not walked ("#42") has its page read through the
    sort's index, each case looked up among the matches, and is counted from its index to
    the bound: the same pages, in every order and read onwards, and the same counts as
    fetching every match and sorting them."""
    from app.db.sealing import seal_outstanding
    from app.services import cases as cases_module

    with services.ctx.sessions() as session:  # a sealed case or two among the matches
        seal_outstanding(session, ())
    flt = CaseFilter(text=text)
    monkeypatch.setattr(cases_module, "WALK_DENSITY", 0)  # never walked
    sorts = [CaseSort(key, descending) for key in SORT_KEYS for descending in (True, False)]

    def pages() -> list[list[int]]:
        return [[r.id for r in services.cases.list_cases(flt, sort, 0, 100)] for sort in sorts]

    monkeypatch.setattr(cases_module, "COMMON_MATCHES", 10**9)  # never many: sorted
    expected, counted = pages(), services.cases.count_cases(flt)
    assert not services.cases._many_matches(flt)
    monkeypatch.setattr(cases_module, "COMMON_MATCHES", 1)  # any match is many
    services.cases._many_terms.clear()  # the answers kept from before
    one_word = len(text.split()) == 1  # two words: their matches are fetched and sorted
    assert services.cases._many_matches(flt) == (one_word and bool(expected[0]))
    assert pages() == expected
    for sort, ids in zip(sorts, expected, strict=True):
        if ids and services.cases.pages_by_keyset(sort):
            assert keyset_pages(services, flt, sort, 2) == ids
    assert services.cases.count_cases(flt, bound=100) == counted
    assert services.cases.count_cases(flt, bound=1) == min(counted, 2)


def _counted_from_cases(services: Services) -> tuple[int, int, int]:
    """Total, open and overdue counted from the cases themselves (what the tallies hold)."""
    closed = "('resolved', 'closed_no_action')"
    from app.domain.dates import london_today

    today = london_today(services.cases.ctx.now()).isoformat()
    with services.engine.connect() as connection:
        total, open_, overdue = connection.exec_driver_sql(
            f"SELECT count(*), sum(status NOT IN {closed}), "
            f"sum(follow_up_due < '{today}' AND status NOT IN {closed}) FROM cases"
        ).one()
    return int(total), int(open_ or 0), int(overdue or 0)


def test_the_totals_kept_by_triggers_follow_every_change(
    services: Services, many: list[CaseDetail], make_case: MakeCase
) -> None:
    """The status bar's totals come from tallies kept by triggers: they agree with the cases
    after cases are opened, change status, follow-up date and standards, and are deleted."""
    from dataclasses import replace as changed

    def check() -> None:
        counts = services.cases.counts(CaseFilter())
        assert (counts.total, counts.open, counts.overdue) == _counted_from_cases(services)
        # A case's place in the usual order is counted from the tallies per day.
        for flt in (CaseFilter(), CaseFilter(open_only=True)):
            every = services.cases.all_case_ids(flt, CaseSort())
            places = [services.cases.position_of_case(flt, CaseSort(), i) for i in every]
            assert places == list(range(len(every)))

    check()
    with services.engine.begin() as connection:  # last activity spread over three days
        connection.exec_driver_sql(
            "UPDATE cases SET last_activity_at = substr(last_activity_at, 1, 8) || "
            "'0' || (1 + id % 3) || substr(last_activity_at, 11)"
        )
    check()
    late = make_case(title="Late one", follow_up_due=date(2026, 12, 2))
    check()
    services.cases.change_status(late.id, CaseStatus.CLOSED_NO_ACTION)
    check()
    draft = case_draft(
        "Now safeguarding",
        {Category.SAFEGUARDING},
        follow_up_due=date(2026, 12, 3),
    )
    services.cases.update_case(many[1].id, draft)
    services.cases.update_case(many[2].id, changed(draft, follow_up_due=None))
    check()
    services.retention.delete_case(late.id, "Opened by mistake")
    check()


def test_a_heads_search_of_sealed_cases_follows_every_change(data_dir: Any, clock: Any) -> None:
    """The sealed cases' words are opened once and kept between keystrokes; a note added,
    a title changed, here or by another program on the same casebook, is found at once."""
    from app.domain.records import CaseDraft
    from app.services.casebook import open_casebook

    services = open_casebook(data_dir, clock=clock)
    try:
        sealed = head_with_sealed_case(services)
        found = search(services)

        services.cases.prepare_search()  # as the window does a second after it opens
        assert found("pupil") == [sealed.reference]
        assert found("haversack") == []
        services.cases.add_note(sealed.id, "Mentions a haversack")
        assert found("haversack") == [sealed.reference]
        services.cases.update_case(
            sealed.id,
            CaseDraft(title="Post naming a child", categories=frozenset({Category.SAFEGUARDING})),
        )
        assert found("pupil") == []
        assert found("child") == [sealed.reference]
        other = open_casebook(data_dir, clock=clock, may_migrate=False, key=services.data_key)
        try:
            other.users.sign_in("head", "correct horse battery 42")
            other.cases.add_note(sealed.id, "A second note about the satchel")
        finally:
            other.close()
        assert found("satchel") == [sealed.reference]
    finally:
        services.close()


def test_a_sealed_case_is_not_found_by_the_letters_of_its_ciphertext(
    data_dir: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sealed case's stored words (and notes) are ciphertext, which the search indexes
    hold too: a run of its letters must not find it, in a page read by fetching the matches,
    walked in list order or read through the sort's index, nor in the counts; its opened
    words still do."""
    from app.services import cases as cases_module
    from app.services.casebook import open_casebook

    services = open_casebook(data_dir, clock=clock)
    try:
        sealed = head_with_sealed_case(services)
        services.cases.add_note(sealed.id, "Mentions a haversack")
        services.cases.open_case(case_draft("Sports day photo"))
        with services.engine.connect() as connection:
            stored = connection.exec_driver_sql(
                "SELECT search_text FROM cases WHERE id = ?", (sealed.id,)
            ).scalar_one()
        token = stored.split(":", 1)[1]
        runs = {token[i : i + 4] for i in range(len(token) - 4) if token[i : i + 4].isalpha()}
        runs = {run for run in runs if run.casefold() not in "post naming a pupil haversack"}
        assert runs
        services.cases.prepare_search()
        for walk_density, common in ((0, 10**9), (0, 1), (10**9, 10**9)):
            monkeypatch.setattr(cases_module, "WALK_DENSITY", walk_density)
            monkeypatch.setattr(cases_module, "COMMON_MATCHES", common)
            services.cases._walkable_terms.clear()
            services.cases._many_terms.clear()
            for run in sorted(runs)[:5]:
                flt = CaseFilter(text=run)
                assert services.cases.list_cases(flt, CaseSort()) == [], run
                assert services.cases.count_cases(flt) == 0, run
                assert services.cases.count_cases(flt, bound=10) == 0, run
            for word in ("pupil", "haversack"):
                rows = services.cases.list_cases(CaseFilter(text=word), CaseSort())
                assert [r.id for r in rows] == [sealed.id], word
    finally:
        services.close()


def test_overdue_only_read_in_list_order_finds_what_sorting_finds(
    services: Services, many: list[CaseDetail], clock: Clock
) -> None:
    """With most cases overdue, "overdue only" is read in list order, each case tested as
    it passes: the same pages, in every order and read onwards, as every overdue case
    fetched and sorted (``all_case_ids``)."""
    clock.advance(days=30)  # the follow-up dates passed: most cases overdue
    for flt in (CaseFilter(overdue_only=True), CaseFilter(overdue_only=True, open_only=True)):
        assert services.cases._overdue_is_common(flt)
        for key in SORT_KEYS:
            for descending in (True, False):
                sort = CaseSort(key, descending)
                expected = services.cases.all_case_ids(flt, sort)
                assert 5 < len(expected) < len(many)
                page = [r.id for r in services.cases.list_cases(flt, sort, 0, 100)]
                assert page == expected, sort
                if services.cases.pages_by_keyset(sort):
                    assert keyset_pages(services, flt, sort, 3) == expected, sort
