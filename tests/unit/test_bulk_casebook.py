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
from app.domain.records import CaseDraft, CaseFilter, CaseSort
from app.domain.status import TRANSITIONS, CaseStatus
from app.security.crypto import SEALED_PREFIX
from app.services.casebook import open_casebook
from app.services.listing import refresh_listing_columns

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import _casebook
import _sqlite_build


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
    monkeypatch.setattr(_sqlite_build, "SAFEGUARDING_EVERY", 7)  # a few sealed cases among 60
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
        # The search indexes are configured as the app's own (the build's options undone).
        for index in ("case_search", "case_words"):
            configured = f"SELECT k, v FROM {index}_config ORDER BY k"
            with services.engine.connect() as bulk, fresh.engine.connect() as made:
                assert (
                    bulk.exec_driver_sql(configured).all() == made.exec_driver_sql(configured).all()
                ), index
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
                ("case_tallies", _sqlite_build.TALLY_FILL),
                ("case_activity_tallies", _sqlite_build.DAY_TALLY_FILL),
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


def _path_to(target: CaseStatus) -> list[CaseStatus]:
    """The statuses a new case passes through to reach ``target`` (the workflow's shortest)."""
    paths: dict[CaseStatus, list[CaseStatus]] = {CaseStatus.NEW: []}
    queue = [CaseStatus.NEW]
    while queue:
        current = queue.pop(0)
        for following in TRANSITIONS[current]:
            if following not in paths:
                paths[following] = [*paths[current], following]
                queue.append(following)
    return paths[target]


def test_a_bulk_built_casebook_finds_and_counts_what_one_made_through_the_services_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same cases, once bulk-built and once opened one by one through the services (as
    a school's casebook is made, safeguarding cases sealed as they are opened): every
    search finds the same cases and counts them the same, for a head teacher and for a
    member of staff who may not see safeguarding cases; the status bar's counts agree."""
    monkeypatch.setattr(_sqlite_build, "SAFEGUARDING_EVERY", 7)
    _casebook._bulk_build(tmp_path / "bulk", 60)
    bulk = _casebook.open_signed_in(tmp_path / "bulk")
    made = _casebook.set_up(tmp_path / "made")
    try:
        everything = CaseFilter()
        rows = bulk.cases.list_cases(everything, CaseSort("reference", False), 0, 100)
        assert len(rows) == 60
        for row in rows:
            detail = bulk.cases.get_case(row.id)
            draft = CaseDraft(
                title=detail.title,
                categories=frozenset(detail.categories),
                platform=detail.platform,
                account_handle=detail.account_handle,
            )
            opened = made.cases.open_case(draft, author=row.poster)
            for status in _path_to(detail.status):
                made.cases.change_status(opened.id, status)
        # The title is the same in both; the reference is not (the year it was opened).
        terms = ["s", "so", "#4", "#1", "ł", "łu", "łuk", "nowak", "zoë", "zoe", "facebook"]
        terms += ["@user4", "about", "a", "12", "#12", "о", "нгуен", "sports day", "x (tw"]
        by_id = {r.id: r.title for r in rows}
        for term in terms:
            flt = CaseFilter(text=term)
            found_bulk = sorted(by_id[r.id] for r in bulk.cases.list_cases(flt, CaseSort(), 0, 100))
            found_made = sorted(r.title for r in made.cases.list_cases(flt, CaseSort(), 0, 100))
            assert found_bulk == found_made, term
            assert bulk.cases.count_cases(flt) == made.cases.count_cases(flt) == len(found_made)
            assert bulk.cases.count_cases(flt, bound=2) == min(len(found_made), 3), term
        # The status bar: total, open and by status (the overdue count depends on follow-up
        # dates the bulk build draws at random; its tallies are checked above).
        for services in (bulk, made):
            services.cases.counts(everything)
        counted = [s.cases.counts(everything) for s in (bulk, made)]
        assert (counted[0].total, counted[0].open) == (counted[1].total, counted[1].open)
        for status in CaseStatus:
            flt = CaseFilter(statuses=frozenset({status}))
            assert bulk.cases.count_cases(flt) == made.cases.count_cases(flt), status
    finally:
        made.close()
        bulk.close()
