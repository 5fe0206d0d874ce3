"""How a shared (PostgreSQL) casebook's window asks its questions at a million cases: the
settings on each connection, and both forms of a search of three or more characters
(a few cases found by their notes and exhibits named by id; many asked for by subquery)
finding exactly what SQLite finds.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.services.casebook import Services
from tests.postgres.conftest import Twins
from tests.postgres.test_list_at_scale import TERMS, _titles, database_url

__all__ = ["database_url"]  # the fixture: a server's casebook


def test_each_connection_runs_without_parallel_workers_or_roving_scans(
    services: Services,
) -> None:
    assert services.ctx.dialect == "postgresql"
    with services.engine.connect() as connection:
        assert connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
        assert connection.execute(text("SHOW synchronize_seqscans")).scalar() == "off"
        connection.rollback()
    # Still so on a connection the pool hands out again after a rollback.
    with services.engine.connect() as connection:
        assert connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"


@pytest.mark.parametrize("noted_most", [0, 2_000])
def test_searches_by_noted_ids_or_by_subquery_find_what_sqlite_finds(
    twins: Twins, noted_most: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``NOTED_MOST`` at 0 every term's notes and exhibits are asked for by subquery
    (as for a word in thousands of notes); at its usual value by the ids found first."""
    from app.services import server_search

    monkeypatch.setattr(server_search, "NOTED_MOST", noted_most)
    services, sqlite_twin = twins.server, twins.sqlite
    for term in TERMS:
        assert _titles(services, term) == _titles(sqlite_twin, term), f"search {term!r}"
    assert _titles(services, "quietly")  # found by its note, not its details
    assert _titles(services, "orange")


def test_word_starts_are_what_the_first_form_of_the_function_gave(services: Services) -> None:
    """Migration 0025 works the word starts out by splitting (twice as quick); the index made
    with 0023's form stays right only if every text gets the same answer."""
    import importlib

    migration = importlib.import_module("app.db.migrations.versions.0025_postgres_tallies")
    first_form = migration.WORD_STARTS_BY_MATCHING.replace(
        "casebook_word_starts(", "pg_temp.first_word_starts("
    )
    texts = [
        "", "a", "--", "a-b", "ab-cd ef", "@Дмитрий_Соколов", "#4 x", "łuk zoë's",
        "sm-2026-0042 rude comments #42 facebook @user42 zoë smith", "x_y__z", "  lead",
        "trail  ", "1", "12 345 6789", "ǆemal o'neill", "日本語 テキスト", "a\tb\nc",
    ]  # fmt: skip
    with services.engine.connect() as connection:
        connection.exec_driver_sql(first_form)
        for words in texts:
            now, before = connection.execute(
                text("SELECT casebook_word_starts(:words), pg_temp.first_word_starts(:words)"),
                {"words": words},
            ).one()
            assert sorted(now) == sorted(before), words
