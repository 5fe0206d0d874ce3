"""Reading the audit trail a page at a time, filtered in the database, and naming a break."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from app.services.audit import AuditFilter
from app.services.casebook import Services
from tests.conftest import Clock

# 23:30 UTC on 1 July is already 2 July in London (British Summer Time).
LATE_EVENING = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)


@pytest.fixture
def trail(services: Services, clock: Clock) -> Services:
    clock.set(LATE_EVENING)
    for number in range(1, 26):
        user = "Mrs Office" if number % 5 == 0 else "head"
        services.audit.record(
            user, "view case" if number % 2 else "add note", f"SM-2026-{number:04d}"
        )
        clock.advance(hours=12)
    return services


def test_pages_follow_one_another_newest_first(trail: Services) -> None:
    total = trail.audit.count()
    pages = [trail.audit.entries(offset=start, limit=10) for start in range(0, total, 10)]
    seqs = [e.seq for page in pages for e in page]
    assert seqs == sorted(seqs, reverse=True)
    assert len(seqs) == len(set(seqs)) == total
    assert len(trail.audit.entries(limit=None)) == total


def test_filters_are_counted_and_applied_alike(trail: Services) -> None:
    for audit_filter, expected in [
        (AuditFilter(user="MRS OFFICE"), 5),
        (AuditFilter(action="NOTE"), 12),
        (AuditFilter(target="2026-001"), 10),  # SM-2026-0010 … 0019
        (AuditFilter(action="100%_"), 0),  # wildcards are searched for as they are
    ]:
        assert trail.audit.count(audit_filter) == expected
        assert len(trail.audit.entries(audit_filter)) == expected


def test_days_are_whole_days_in_uk_time(trail: Services) -> None:
    # The first entry (23:30 UTC on 1 July) belongs to 2 July in the school.
    second_of_july = AuditFilter.for_days(first_day=date(2026, 7, 2), last_day=date(2026, 7, 2))
    shown = trail.audit.entries(second_of_july)
    assert [e.target for e in reversed(shown)] == ["SM-2026-0001", "SM-2026-0002"]
    assert trail.audit.count(AuditFilter.for_days(last_day=date(2026, 7, 1))) == 0


def test_position_finds_an_entry_under_a_filter(trail: Services) -> None:
    notes = AuditFilter(action="note")
    newest_note = trail.audit.entries(notes, limit=1)[0]
    assert trail.audit.position(newest_note.seq, notes) == 0
    older = trail.audit.entries(notes, offset=3, limit=1)[0]
    assert trail.audit.position(older.seq, notes) == 3
    a_view = trail.audit.entries(AuditFilter(action="view"), limit=1)[0]
    assert trail.audit.position(a_view.seq, notes) is None


def test_user_names_are_listed_once(trail: Services) -> None:
    assert trail.audit.user_names() == ["head", "Mrs Office"]


@pytest.mark.parametrize(
    ("statement", "broken"),
    [
        ("UPDATE audit_entries SET target = 'SM-2026-9999' WHERE seq = 7", 7),
        ("DELETE FROM audit_entries WHERE seq = 7", 8),
        # The moved entry itself is the first one named (it stands out of order).
        ("UPDATE audit_entries SET id = CASE id WHEN 7 THEN 1007 ELSE id END", 7),
    ],
    ids=["edited", "removed", "reordered"],
)
def test_the_check_points_at_the_first_broken_entry(
    trail: Services, statement: str, broken: int
) -> None:
    assert trail.audit.verify().broken_seq is None
    with trail.engine.begin() as connection:
        connection.execute(text(statement))
    check = trail.audit.verify()
    assert not check.ok
    assert check.broken_seq == broken
    assert f"entry {broken} (" in check.problems[0]
