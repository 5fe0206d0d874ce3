"""The benchmarks' bulk-built casebook is the casebook the app would have written.

benchmarks/_sqlite_build.py fills a million cases in bulk, on two processes: the rows made
in Python, the indexes and triggers made after them, the search indexes built in a file of
their own and copied in; a benchmark over it measures the app only if every derived column,
sealed word, tally, index and trigger is what the app's own writes leave.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.models import CaseCategoryRecord, CasePersonRecord, CaseRecord, PersonRecord
from app.db.sealing import Sealed, seal_outstanding, sealed_columns
from app.domain.categories import Category, decode_categories
from app.domain.people import name_key
from app.domain.records import CaseDraft, CaseFilter, CaseSort
from app.domain.search import fold
from app.domain.status import TRANSITIONS, CaseStatus
from app.security.crypto import SEALED_PREFIX
from app.services.casebook import Services, open_casebook
from app.services.cases import SEARCHED_EVENTS
from app.services.listing import refresh_listing_columns

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import _casebook
import _sqlite_build


def _as_built(folder: Path) -> Services:
    """The casebook signed in to without the head teacher's sign-in sealing what is still
    in clear: what the build stored, not what a sign-in would mend."""
    services = open_casebook(folder, actor="Test")
    services.users.sign_in(_casebook.BENCH_USER, _casebook.BENCH_PASSWORD, seal_later=True)
    return services


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
    # A real SQLCipher casebook, kept in WAL as the app keeps it; the build's own file with
    # the search indexes (made by its second process) is gone.
    assert sorted(p.name for p in folder.glob("*.sqlite3*")) == ["casebook.sqlite3"]
    assert (folder / "casebook.sqlite3").read_bytes()[:16] != b"SQLite format 3\0"
    services = _as_built(folder)
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
                    # Every word of it sealed, as the app's sealing rule writes it.
                    for column in sealed_columns(case):
                        value = getattr(case, column)
                        assert not value or isinstance(value, Sealed), (case.id, column)
                    continue
                stored = (case.search_text, case.poster)
                # What the app computes for the list's columns, from the same case.
                refresh_listing_columns(session, case)
                assert (case.search_text, case.poster) == stored, case.reference
            assert len(links) == sum(len(decode_categories(c.categories)) for c in cases)
            # Each case's author, and each person as app.services.people.write_person
            # writes one; a person named only by safeguarding cases is sealed.
            authors = {
                link.case_id: link.person_id
                for link in session.scalars(select(CasePersonRecord))
                if link.role == "author"
            }
            assert sorted(authors) == [case.id for case in cases]
            people = session.scalars(select(PersonRecord)).all()
            assert len(people) == 10
            for person in people:
                assert (person.name_key, person.search_name) == (
                    name_key(person.name),
                    fold(name_key(person.name)),
                ), person.id
                on_cases = [c for c in cases if authors[c.id] == person.id]
                only_sealed = bool(on_cases) and all(
                    Category.SAFEGUARDING in decode_categories(c.categories) for c in on_cases
                )
                assert isinstance(person.name, Sealed) == only_sealed, person.id
            # Nothing is left for a head teacher's sign-in to seal.
            assert seal_outstanding(session, SEARCHED_EVENTS) == 0
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
            # The product's SQLCipher settings, not the build's.
            assert raw.execute("PRAGMA cipher_use_hmac").fetchone()[0] == "1"
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
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
        # A person is found by their name without its accents, as the app's people are.
        assert first.poster in {
            person.name for person in services.people.search_people(fold(first.poster))
        }
        assert first.id in {
            row.id for row in services.cases.list_cases(CaseFilter(text=author), CaseSort(), 0, 100)
        }
    finally:
        fresh.close()
        services.close()


def test_people_named_only_by_safeguarding_cases_are_built_sealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every case a safeguarding case: every author is sealed, as the app seals a person
    named only by such cases, and the head teacher still finds them by name."""
    monkeypatch.setattr(_sqlite_build, "SAFEGUARDING_EVERY", 1)
    _casebook._bulk_build(tmp_path / "bulk", 30)
    services = _as_built(tmp_path / "bulk")
    try:
        with services.ctx.sessions() as session:
            people = session.scalars(select(PersonRecord)).all()
            authors = set(session.scalars(select(CasePersonRecord.person_id)))
            assert authors and authors <= {person.id for person in people}
            for person in people:
                assert isinstance(person.name, Sealed) == (person.id in authors), person.id
                assert isinstance(person.search_name, Sealed) == (person.id in authors)
            assert seal_outstanding(session, SEARCHED_EVENTS) == 0
            name = next(str(p.name) for p in people if p.id in authors)
            session.rollback()
        assert name in {person.name for person in services.people.search_people(fold(name))}
    finally:
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
