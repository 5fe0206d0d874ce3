"""The status bar's totals on a shared (PostgreSQL) casebook, kept by triggers (migration
0025): right after every kind of change, from several PCs at once, and without one PC's
save waiting for another's.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from app.domain.categories import Category
from app.domain.records import CaseFilter, CaseSort
from app.domain.status import CaseStatus
from app.services.casebook import Services, open_casebook
from tests.conftest import case_draft
from tests.postgres_server import PostgresServer

CLOSED = ("resolved", "closed_no_action")


@pytest.fixture
def url(postgres_server: PostgresServer) -> Iterator[str]:
    address = postgres_server.new_database()
    yield address
    postgres_server.drop_database(address)


@pytest.fixture
def office(tmp_path: Path, url: str) -> Iterator[Services]:
    services = open_casebook(tmp_path / "office-pc", actor="Mrs A. Head", database_url=url)
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def raw(url: str) -> Iterator[Engine]:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        engine.dispose()


def counted_from_cases(services: Services) -> tuple[dict[str, int], int]:
    """The totals counted from the cases themselves, as the tallies must hold them."""
    today = date.today().isoformat()
    with services.engine.connect() as connection:
        by_status = {
            str(status): int(n)
            for status, n in connection.execute(
                text("SELECT status, count(*) FROM cases GROUP BY status")
            )
        }
        overdue = connection.execute(
            text(
                "SELECT count(*) FROM cases WHERE follow_up_due < CAST(:today AS date) "
                "AND status NOT IN ('resolved', 'closed_no_action')"
            ),
            {"today": today},
        ).scalar_one()
    return by_status, int(overdue)


def check_counts(services: Services) -> None:
    by_status, overdue = counted_from_cases(services)
    counts = services.cases.counts(CaseFilter(), shown=0)
    assert counts.total == sum(by_status.values())
    assert counts.open == sum(n for status, n in by_status.items() if status not in CLOSED)
    assert counts.overdue == overdue
    for status in CaseStatus:
        only = CaseFilter(statuses=frozenset({status}))
        assert services.cases.count_cases(only) == by_status.get(status.value, 0), status


def test_the_totals_follow_every_change_and_survive_a_fold(office: Services, raw: Engine) -> None:
    today = date.today()
    cases = [
        office.cases.open_case(
            case_draft(
                f"Post {n}",
                {Category.SAFEGUARDING} if n % 5 == 0 else {Category.ABUSIVE},
                follow_up_due=today + timedelta(days=(n % 7) - 3) if n % 2 else None,
            )
        )
        for n in range(12)
    ]
    check_counts(office)
    office.cases.change_status(cases[1].id, CaseStatus.EVIDENCE_GATHERED)
    office.cases.change_status(cases[3].id, CaseStatus.CLOSED_NO_ACTION)
    office.cases.add_note(cases[4].id, "Spoke to the parent")  # last activity only
    check_counts(office)
    with raw.connect() as connection:
        # Follow-up dates moved, a standard added, a case removed: by hand, as a trigger sees.
        connection.execute(text("UPDATE cases SET follow_up_due = follow_up_due - 2"))
        connection.execute(
            text("UPDATE cases SET categories = categories || ',safeguarding' WHERE id = :id"),
            {"id": cases[2].id},
        )
        connection.execute(text("DELETE FROM case_people WHERE case_id = :id"), {"id": cases[6].id})
        connection.execute(text("DELETE FROM events WHERE case_id = :id"), {"id": cases[6].id})
        connection.execute(
            text("DELETE FROM case_categories WHERE case_id = :id"), {"id": cases[6].id}
        )
        connection.execute(text("DELETE FROM cases WHERE id = :id"), {"id": cases[6].id})
    check_counts(office)
    with raw.connect() as connection:
        waiting = connection.execute(text("SELECT count(*) FROM case_tally_changes")).scalar_one()
        assert waiting > 0
        assert connection.execute(text("SELECT casebook_fold_tallies()")).scalar_one() is True
        assert connection.execute(text("SELECT count(*) FROM case_tally_changes")).scalar_one() == 0
        assert (
            connection.execute(text("SELECT count(*) FROM case_activity_changes")).scalar_one() == 0
        )
    check_counts(office)
    # The day tallies place a case as the whole list does.
    every = office.cases.all_case_ids(CaseFilter(), CaseSort())
    for position, case_id in enumerate(every):
        assert office.cases.position_of_case(CaseFilter(), CaseSort(), case_id) == position


def test_the_changes_are_folded_as_they_accumulate(office: Services, raw: Engine) -> None:
    migration = importlib.import_module("app.db.migrations.versions.0025_postgres_tallies")
    for n in range(10):
        office.cases.open_case(case_draft(f"Post {n}", follow_up_due=date.today()))
    with raw.connect() as connection:
        for _ in range(migration.FOLD_EVERY // 20 + 2):  # 20 changes a round
            connection.execute(text("UPDATE cases SET follow_up_due = follow_up_due + 1"))
        waiting = connection.execute(text("SELECT count(*) FROM case_tally_changes")).scalar_one()
    assert waiting < migration.FOLD_EVERY
    check_counts(office)


def test_a_save_never_waits_for_another_pcs_save_or_fold(office: Services, raw: Engine) -> None:
    """One PC's transaction changes a case's status (and folds the tallies) and is left
    open; another PC changing a case from and to the same status must not wait for it."""
    first = office.cases.open_case(case_draft("First"))
    second = office.cases.open_case(case_draft("Second"))
    with raw.connect() as holding, raw.connect() as other:
        holding.execute(text("BEGIN"))
        holding.execute(
            text("UPDATE cases SET status = 'closed_no_action' WHERE id = :id"), {"id": first.id}
        )
        assert holding.execute(text("SELECT casebook_fold_tallies()")).scalar_one() is True
        # The first PC's transaction stays open throughout, so a wait for anything it holds
        # (a row, the fold's lock) would never end: the lock timeout turns one into an
        # error, however quick or slow the machine (a bound on the seconds taken was not).
        other.execute(text("SET lock_timeout = '2s'"))
        other.execute(text("BEGIN"))
        other.execute(
            text("UPDATE cases SET status = 'closed_no_action' WHERE id = :id"), {"id": second.id}
        )
        # Its own fold is skipped (the other PC is folding), never waited for.
        assert other.execute(text("SELECT casebook_fold_tallies()")).scalar_one() is False
        other.execute(text("COMMIT"))
        holding.execute(text("COMMIT"))
    check_counts(office)


def test_several_pcs_writing_at_once_keep_the_totals_right(tmp_path: Path, url: str) -> None:
    """Four PCs open and close cases at the same moment, with folds among them: no save
    is refused or deadlocked, and the totals equal the cases counted."""
    first = open_casebook(tmp_path / "pc0", database_url=url)
    pcs = [first] + [
        open_casebook(tmp_path / f"pc{n}", database_url=url, key=first.data_key) for n in (1, 2, 3)
    ]
    raw = create_engine(url, isolation_level="AUTOCOMMIT")
    try:

        def work(n: int) -> float:
            slowest = 0.0
            pc = pcs[n]
            for i in range(12):
                started = time.perf_counter()
                case = pc.cases.open_case(
                    case_draft(f"Case {n}-{i}", follow_up_due=date.today() - timedelta(days=i % 3))
                )
                pc.cases.change_status(
                    case.id,
                    CaseStatus.CLOSED_NO_ACTION if i % 2 else CaseStatus.EVIDENCE_GATHERED,
                )
                slowest = max(slowest, time.perf_counter() - started)
                if i % 4 == n % 4:
                    with raw.connect() as connection:
                        connection.execute(text("SELECT casebook_fold_tallies()"))
            return slowest

        with ThreadPoolExecutor(4) as pool:
            slowest = list(pool.map(work, range(4)))
        print(f"slowest open-and-close of a case, per PC: {[f'{s:.3f}' for s in slowest]} s")
        for pc in pcs:
            check_counts(pc)
        assert first.cases.counts(CaseFilter(), shown=0).total == 48
    finally:
        raw.dispose()
        for pc in pcs:
            pc.close()


def test_the_migration_goes_down_and_up_again_leaving_one_trigram_index(url: str) -> None:
    from alembic import command

    from app.db.engine import _alembic_config, make_server_engine, migrate_server

    engine = make_server_engine(url)

    def names(kind: str) -> set[str]:
        query = {
            "index": "SELECT indexname FROM pg_indexes WHERE tablename = 'cases'",
            "table": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        }[kind]
        with engine.connect() as connection:
            return {str(row[0]) for row in connection.execute(text(query))}

    try:
        migrate_server(engine)
        assert "ix_cases_search_trgm" in names("index")
        assert "ix_cases_search_text_trgm" not in names("index")  # the same index twice
        assert {"case_tally_totals", "case_activity_changes"} <= names("table")
        with engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0023_postgres_at_scale")
        assert "ix_cases_search_text_trgm" in names("index")
        assert not {"case_tally_totals", "case_activity_changes"} & names("table")
        migrate_server(engine)
        assert "ix_cases_search_text_trgm" not in names("index")
        assert {"case_tally_totals", "case_activity_changes"} <= names("table")
    finally:
        engine.dispose()
