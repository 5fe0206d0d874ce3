"""The case list's quick paths on a shared (PostgreSQL) casebook: SQLite's answers, and
PostgreSQL's indexes under every query the window runs on the hot path.

The same cases are opened in a SQLite casebook and a PostgreSQL one, and every search,
keyset page and position must come out the same. ``EXPLAIN`` with sequential scans
switched off then shows whether an index can serve each statement: a plan that still
reads a large table from end to end ("Seq Scan") has none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.domain.records import SORT_KEYS, CaseDetail, CaseFilter, CaseSort
from app.services.casebook import Services
from tests.conftest import case_draft
from tests.postgres.conftest import Twins, _with_notes
from tests.postgres_server import PostgresServer
from tests.sealed_search import head_with_sealed_case, search
from tests.unit.test_case_list_at_scale import (
    check_keyset,
    statements,
)

LARGE_TABLES = ("cases", "case_categories", "case_people", "events", "evidence", "audit_entries")
# Searches of every kind: one and two characters (letters, digits, outside ASCII, with
# punctuation), three or more (in a word, across words, in notes and exhibits' words).
TERMS = [
    "s", "so", "Ł", "l", "ZO", "14", "m", "#4", "_", "#9", "4#", "@z", "x", "(t",
    "sok", "#42", "łuk", "about", "facebook", "trip #4", "nursery", "4 s", "zoë",
    "д", "дм", "со", "ко", "ов", "quietly", "orange", "mum4", "ab", "tik", "o'", "zoe's", "phoned",
    "%4", "4%", "s_", "#_", "\\s",
]  # fmt: skip


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    return postgres_server.new_database()


class Many(list[CaseDetail]):
    """The SQLite tests' cases (tests/unit/test_case_list_at_scale.py), and ``services``: a
    copy of the server's casebook holding them."""

    def __init__(self, services: Services, made: list[CaseDetail]) -> None:
        super().__init__(made)
        self.services = services


@pytest.fixture
def many(twins: Twins) -> Many:
    """The cases of ``fill_many`` on the server: its twin, which this module's searches
    make anyway (filled once a run, two of its cases with a note; the tests that use this
    compare the server's list with itself and with these cases' ids)."""
    with twins.server.engine.connect() as connection:
        server_ids = set(connection.exec_driver_sql("SELECT id FROM cases").scalars())
    assert server_ids == {case.id for case in twins.made}  # the same cases, by the same ids
    return Many(twins.server, twins.made)


def _titles(services: Services, text: str) -> set[str]:
    flt = CaseFilter(text=text)
    rows = services.cases.list_cases(flt, CaseSort(), 0, 100)
    assert services.cases.count_cases(flt) == len(rows)
    return {r.title for r in rows}


@pytest.mark.parametrize("common", [False, True])
def test_every_search_finds_what_sqlite_finds(
    twins: Twins, common: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each search taken as rare (through its indexes), then as common (walking the list)."""
    from app.services import server_search

    monkeypatch.setattr(server_search, "COMMON_SHARE", 0.0 if common else 2.0)
    services, sqlite_twin = twins.server, twins.sqlite
    assert services.ctx.dialect == "postgresql"
    assert sqlite_twin.ctx.dialect == "sqlite"
    for casebook in (services, sqlite_twin):
        casebook.cases.open_case(
            case_draft("Comments in Russian", account_handle="@Дмитрий_Соколов")
        )
    if common:  # the statistics that make a short term's beginning common
        with services.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    for term in TERMS:
        expected = _titles(sqlite_twin, term)
        assert _titles(services, term) == expected, f"search {term!r}"
    # The fixture's searches are not all empty, nor all everything.
    assert 0 < len(_titles(services, "zo")) < len(_titles(services, "s")) == 24
    assert _titles(services, "дм") == _titles(services, "со") == {"Comments in Russian"}
    assert _titles(services, "ко") == set()  # inside a word, not at its start
    assert _titles(services, "quietly") == {twins.made[1].title}


def test_keyset_pages_and_positions_match_the_whole_list(many: Many) -> None:
    services = many.services
    # Empty follow-up dates come last in ascending order on PostgreSQL (first on SQLite):
    # each database's keyset conditions follow its own order.
    for key in SORT_KEYS:
        for descending in (False, True):
            check_keyset(services, many, CaseSort(key, descending))


def _plans(services: Services, seen: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """Each statement with its plan, sequential scans and sorts discouraged as far as the
    planner can go without them (so a plan still holding one has no index to use)."""
    plans = []
    with services.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        for sql, params in seen:
            explained = connection.exec_driver_sql("EXPLAIN " + sql, params)
            plans.append((sql, "\n".join(str(row[0]) for row in explained)))
    return plans


def _scanned_tables(plan: str) -> list[str]:
    return [
        line.split("Seq Scan on ")[1].split()[0]
        for line in plan.splitlines()
        if "Seq Scan on " in line
    ]


@pytest.mark.parametrize("common", [False, True])
def test_hot_path_queries_read_no_large_table_from_end_to_end(
    many: Many, common: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up counts, the first and next pages, a far case found by position, searches of
    one, two and more letters, the overdue list, the case shown with its related cases, and
    the audit trail window's first page and user list.

    Searched words are taken as rare (found through their indexes), then as common: read
    while walking the list in order, which stops after a page or a bounded count.
    """
    services = many.services
    from app.services import server_search

    monkeypatch.setattr(server_search, "COMMON_SHARE", 0.0 if common else 2.0)
    _with_notes(services, many)
    with services.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    flt, sort = CaseFilter(), CaseSort()
    with statements(services) as seen:
        services.cases.counts(flt)
        first = services.cases.list_cases(flt, sort, 0, 5)
        services.cases.list_cases(flt, sort, limit=5, after=first[-1].id)
        services.cases.position_of_case(flt, sort, many[3].id)
        for term in ("s", "#4", "zo", "nursery", "quietly"):
            services.cases.list_cases(CaseFilter(text=term), sort, 0, 5)
            services.cases.count_cases(CaseFilter(text=term), bound=1000)
        services.cases.count_cases(CaseFilter(overdue_only=True), bound=1000)
        for key in ("status", "platform", "follow_up_due"):
            page = services.cases.list_cases(flt, CaseSort(key, True), 0, 5)
            services.cases.list_cases(flt, CaseSort(key, True), limit=5, after=page[-1].id)
        services.joined_up.related_cases(many[0].id)
        services.audit.entries(limit=200)
        services.audit.user_names()
    assert len(seen) >= 25
    for sql, plan in _plans(services, seen):
        large = [table for table in _scanned_tables(plan) if table in LARGE_TABLES]
        if common and "LIMIT" in sql and ("LIKE '%%'" in sql or " ~ " in sql):
            continue  # a common word's bounded walk: it stops after its page or count
        assert not large, f"a full read of {large} in the plan\n{plan}\nof\n{sql}"
        if "ORDER BY" in sql and "LIMIT" in sql and "LIKE" not in sql and " ~ " not in sql:
            # A page of the list is read in order from an index, never by sorting every case.
            assert "Sort" not in plan or "Incremental Sort" in plan, f"a sort in\n{plan}\n{sql}"


def test_the_audit_trail_lists_each_user_once_in_alphabetical_order(services: Services) -> None:
    for user in ("Mrs Office", "head", "Mr Deputy", "head", "Governor", "Mrs Office", "zed"):
        services.audit.record(user, "view case", "SM-2026-0001")
    names = services.audit.user_names()
    assert {"Mrs Office", "head", "Mr Deputy", "Governor", "zed"} <= set(names)
    assert names == sorted(set(names), key=str.casefold)


def test_sorting_the_list_does_not_count_the_cases_again(many: Many) -> None:
    """Each count reads a whole index on a server; the window sorts as it starts."""
    services = many.services
    pytest.importorskip("PySide6")
    from PySide6.QtCore import Qt

    from app.ui.models.case_table import CaseTableModel

    model = CaseTableModel(services.cases)
    model.reload()
    with statements(services) as seen:
        model.sort(1, Qt.SortOrder.DescendingOrder)
        assert model.rowCount() == len(many)
        model.case_at(len(many) - 1)
    assert seen and not [sql for sql, _ in seen if "count(" in sql.lower()]


def test_the_migration_goes_down_and_up_again_on_a_server(database_url: str) -> None:
    """Its PostgreSQL indexes and function are removed and made again."""
    from alembic import command
    from sqlalchemy import text

    from app.db.engine import _alembic_config, make_server_engine, migrate_server

    engine = make_server_engine(database_url)
    try:
        migrate_server(engine)

        def indexes() -> set[str]:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT indexname FROM pg_indexes"))
                return {str(row[0]) for row in rows}

        assert {"ix_cases_word_starts", "ix_cases_search_trgm"} <= indexes()
        with engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0020_list_at_scale")
        assert not {"ix_cases_word_starts", "ix_cases_search_trgm"} & indexes()
        migrate_server(engine)
        assert {"ix_cases_word_starts", "ix_cases_search_trgm"} <= indexes()
    finally:
        engine.dispose()


def test_a_heads_search_of_sealed_cases_is_kept_between_keystrokes_and_follows_changes(
    tmp_path: Path, own_postgres_server: PostgresServer
) -> None:
    """The sealed cases' words are read and opened once while nothing changes on the
    server (keystroke after keystroke), and read again once any PC writes: a note added
    here or by another PC, a title changed, is found at the next keystroke."""
    from app.domain.categories import Category
    from app.domain.records import CaseDraft
    from app.services.casebook import open_casebook

    database_url = own_postgres_server.new_database()
    services = open_casebook(tmp_path / "office-pc", actor="Head", database_url=database_url)
    try:
        sealed = head_with_sealed_case(services)
        found = search(services)

        services.cases.prepare_search()  # as the window does a second after it opens
        with statements(services) as seen:
            assert found("pupil") == [sealed.reference]
            assert found("pup") == [sealed.reference]
            assert found("haversack") == []
        sealed_reads = [sql for sql, _ in seen if "search_text" in sql and "substr" in sql]
        assert not sealed_reads, "the sealed words were read again with nothing changed"
        services.cases.add_note(sealed.id, "Mentions a haversack")
        assert found("haversack") == [sealed.reference]
        services.cases.update_case(
            sealed.id,
            CaseDraft(title="Post naming a child", categories=frozenset({Category.SAFEGUARDING})),
        )
        assert found("pupil") == []
        assert found("child") == [sealed.reference]
        other = open_casebook(
            tmp_path / "deputy-pc", actor="Head", database_url=database_url,
            key=services.data_key,
        )  # fmt: skip
        try:
            other.users.sign_in("head", "correct horse battery 42")
            other.cases.add_note(sealed.id, "A second note about the satchel")
        finally:
            other.close()
        assert found("satchel") == [sealed.reference]
    finally:
        services.close()


def test_the_start_up_sweep_knows_the_same_blob_columns_as_on_sqlite(twins: Twins) -> None:
    """The tidying at each start keeps every file a column refers to: the server's one
    catalogue query names the same columns as SQLite's."""
    from app.services.blobs import _hash_columns

    found = {}
    for casebook in (twins.server, twins.sqlite):
        with casebook.ctx.sessions() as session:
            found[casebook.ctx.dialect] = _hash_columns(session)
    assert ("evidence", "sha256") in found["postgresql"]
    assert found["postgresql"] == found["sqlite"]


def test_a_common_search_walks_the_list_in_its_index_alone(
    many: Many, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word many cases hold is found by walking the list in order of latest activity:
    the walk reads the index holding each case's words (migration 0027), not a page of the
    table per case passed; only the page's own cases are read from the table."""
    from app.services import server_search

    services = many.services
    monkeypatch.setattr(server_search, "COMMON_SHARE", 0.0)  # every word taken as common
    with services.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM ANALYZE cases"
        )
    flt, sort = CaseFilter(text="about"), CaseSort()
    with statements(services) as seen:
        rows = services.cases.list_cases(flt, sort, 0, 5)
    expected = [r.id for r in services.cases.list_cases(CaseFilter(), sort, 0, len(many))]
    assert [r.id for r in rows] == [
        case_id for case_id in expected if case_id in {r.id for r in rows}
    ][:5]
    assert rows and all("about" in r.title.casefold() for r in rows)
    page = [(sql, params) for sql, params in seen if "ORDER BY" in sql and "LIMIT" in sql]
    assert page, seen
    plans = [plan for _sql, plan in _plans(services, page)]
    walked = [p for p in plans if "Index Only Scan" in p and "ix_cases_last_activity_words" in p]
    assert walked, plans
