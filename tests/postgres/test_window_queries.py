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
    """Migration 0025 worked the word starts out by splitting, 0029 in PL/pgSQL (twice as
    quick again, a start repeated where two words share it); the index made with 0023's
    form stays right only if every text gets the same set of starts."""
    import importlib
    import random

    migration = importlib.import_module("app.db.migrations.versions.0025_postgres_tallies")
    first_form = migration.WORD_STARTS_BY_MATCHING.replace(
        "casebook_word_starts(", "pg_temp.first_word_starts("
    )
    texts = [
        "", "a", "--", "a-b", "ab-cd ef", "@Дмитрий_Соколов", "#4 x", "łuk zoë's",
        "sm-2026-0042 rude comments #42 facebook @user42 zoë smith", "x_y__z", "  lead",
        "trail  ", "1", "12 345 6789", "ǆemal o'neill", "日本語 テキスト", "a\tb\nc",
        "aa aa ab a", "ab!", "!ab", "a!b!c!", "ł", "x (twitter)",
    ]  # fmt: skip
    letters = "ab1ł日ǆД _-#@'!.\t"
    draw = random.Random(29)
    texts += ["".join(draw.choice(letters) for _ in range(draw.randrange(12))) for _ in range(300)]
    with services.engine.connect() as connection:
        connection.exec_driver_sql(first_form)
        rows = connection.execute(
            text(
                "SELECT words, casebook_word_starts(words), pg_temp.first_word_starts(words) "
                "FROM unnest(CAST(:texts AS text[])) AS t(words)"
            ),
            {"texts": texts},
        ).all()
        assert len(rows) == len(texts)
        for words, now, before in rows:
            assert set(now) == set(before), words
        assert connection.execute(text("SELECT casebook_word_starts(NULL)")).scalar() is None


def test_a_rare_short_search_is_answered_from_the_word_start_index(
    twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The searches of one or two characters still ask for the cases whose word starts
    contain the typed ones, and that question is still answered from the word-start index
    after 0029 replaced the function the index is made of (the plan names the index)."""
    from app.domain.records import CaseFilter, CaseSort
    from app.services import server_search
    from tests.unit.test_case_list_at_scale import statements

    services = twins.server
    monkeypatch.setattr(server_search, "word_start_is_common", lambda *_args, **_kw: False)
    with statements(services) as seen:
        found = services.cases.list_cases(CaseFilter(text="zo"), CaseSort(), 0, 50)
        services.cases.count_cases(CaseFilter(text="#4"), bound=1000)
    assert found and all("zo" in case.title.casefold() or case.poster for case in found)
    asked = [sql for sql, _params in seen if "casebook_word_starts(cases.search_text) @>" in sql]
    assert len(asked) >= 2, seen
    with services.engine.connect() as connection:
        # Few cases here: the planner would read them all through any index. Left with
        # bitmap scans only, it reads the word-start index only if the index's expression
        # is still the one the search asks about; otherwise it tests every case.
        for kind in ("seqscan", "indexscan", "indexonlyscan"):
            connection.exec_driver_sql(f"SET enable_{kind} = off")
        for letters in ("zo", "4"):
            plan = "\n".join(
                str(row[0])
                for row in connection.execute(
                    text(
                        "EXPLAIN SELECT cases.id FROM cases "
                        "WHERE casebook_word_starts(cases.search_text) @> CAST(:starts AS text[])"
                    ),
                    {"starts": [letters]},
                )
            )
            assert "Bitmap Index Scan on ix_cases_word_starts" in plan, plan
