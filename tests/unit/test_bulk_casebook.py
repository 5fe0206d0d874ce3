"""The benchmarks' bulk-built casebook is the casebook the app would have written.

benchmarks/_casebook.py fills a million cases by ``INSERT ... SELECT`` with the indexes,
triggers and search indexes made after the rows; a benchmark over it measures the app only
if every derived column, tally, index and trigger is what the app's own writes leave.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.models import CaseCategoryRecord, CaseRecord
from app.domain.categories import Category, decode_categories
from app.domain.records import CaseFilter, CaseSort
from app.security.crypto import SEALED_PREFIX
from app.services.casebook import open_casebook
from app.services.listing import refresh_listing_columns

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import _casebook


def _schema(engine: object) -> set[tuple[str, str, str]]:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return {
            (kind, name, " ".join(sql.split()))
            for kind, name, sql in connection.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
            )
        }


def test_a_small_bulk_build_matches_what_the_app_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_casebook, "SAFEGUARDING_EVERY", 7)  # a few sealed cases among 60
    folder = tmp_path / "bulk"
    _casebook._bulk_build(folder, 60)
    services = _casebook.open_signed_in(folder)
    fresh = open_casebook(tmp_path / "fresh", actor="Test")
    try:
        # The same tables, indexes and triggers as a casebook the app made itself.
        with fresh.engine.connect() as connection:
            fresh_schema = {
                (kind, name, " ".join(sql.split()))
                for kind, name, sql in connection.exec_driver_sql(
                    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
                )
            }
        assert _schema(services.engine) == fresh_schema
        with services.ctx.sessions() as session:
            cases = session.scalars(select(CaseRecord).order_by(CaseRecord.id)).all()
            assert len(cases) == 60
            links = {
                (link.case_id, link.category)
                for link in session.scalars(select(CaseCategoryRecord))
            }
            sealed = 0
            for case in cases:
                categories = decode_categories(case.categories)
                assert links >= {(case.id, c.value) for c in categories}
                if Category.SAFEGUARDING in categories:
                    sealed += 1  # stored sealed (checked below), opened here by the key
                    continue
                stored = (case.search_text, case.poster)
                # What the app computes for the list's columns, from the same case.
                refresh_listing_columns(session, case)
                assert (case.search_text, case.poster) == stored, case.reference
            assert len(links) == sum(len(decode_categories(c.categories)) for c in cases)
            session.rollback()
        assert sealed >= 3
        with services.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            stored_sealed = raw.execute(
                "SELECT count(*) FROM cases WHERE categories LIKE '%safeguarding%' "
                "AND substr(search_text, 1, ?) = ?",
                (len(SEALED_PREFIX), SEALED_PREFIX),
            ).fetchone()[0]
            assert stored_sealed == sealed  # sealed as a head's sign-in seals them
            # The search indexes hold exactly the stored text (FTS5's own check).
            for index in ("case_search", "case_words"):
                raw.execute(f"INSERT INTO {index}({index}, rank) VALUES ('integrity-check', 1)")
            # The tallies hold what the triggers would have counted.
            for table, fill in (
                ("case_tallies", _casebook.TALLY_FILL),
                ("case_activity_tallies", _casebook.DAY_TALLY_FILL),
            ):
                kept = sorted(raw.execute(f"SELECT * FROM {table}").fetchall())
                counted = sorted(raw.execute(fill.split(") ", 1)[1]).fetchall())
                assert kept == counted, table
        # And the list finds a case by a word of its title and by its author's name.
        first = services.cases.list_cases(CaseFilter(), CaseSort("reference", False), 0, 1)[0]
        author = first.poster.split()[1]
        by_title = services.cases.list_cases(CaseFilter(text=f"#{first.id - 1}"), CaseSort())
        assert first.id in {row.id for row in by_title}
        assert first.id in {
            row.id for row in services.cases.list_cases(CaseFilter(text=author), CaseSort(), 0, 100)
        }
    finally:
        fresh.close()
        services.close()
