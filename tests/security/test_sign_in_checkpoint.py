"""A head teacher's sign-in: its 'signed in' entry, the account's time of sign-in and the
checkpoint after them are one transaction; a problem found first is recorded as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from app.services.audit import ANCHOR_FILE, HEAD_FILE
from app.services.casebook import Services, open_casebook
from tests.conftest import Clock
from tests.security.accounts import HEAD, HEAD_PASSWORD, OFFICE, OFFICE_PASSWORD, head_and_office


@pytest.fixture
def casebook(data_dir: Path, clock: Clock) -> Path:
    return head_and_office(data_dir, clock)


@pytest.fixture
def reopened(casebook: Path, clock: Clock) -> Iterator[Services]:
    clock.advance(minutes=10)
    services = open_casebook(casebook, clock=clock)
    try:
        yield services
    finally:
        services.close()


def _writes_by_transaction(services: Services) -> list[list[str]]:
    """What each transaction of the engine wrote (INSERT, UPDATE, DELETE), from now on."""
    transactions: list[list[str]] = [[]]

    def executed(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        words = statement.split()
        if words[0] in ("INSERT", "UPDATE", "DELETE"):
            table = words[2] if words[0] != "UPDATE" else words[1]
            transactions[-1].append(f"{words[0]} {table}")

    def ended(_conn: object) -> None:
        transactions.append([])

    event.listen(services.engine, "before_cursor_execute", executed)
    event.listen(services.engine, "commit", ended)
    event.listen(services.engine, "rollback", ended)
    return transactions


def _newest(services: Services, action: str) -> int:
    return next(e.seq for e in services.audit.entries(action=action))


def test_a_head_teachers_sign_in_writes_its_entry_and_checkpoint_in_one_commit(
    reopened: Services, clock: Clock
) -> None:
    transactions = _writes_by_transaction(reopened)
    reopened.users.sign_in(HEAD, HEAD_PASSWORD)
    written = [t for t in transactions if t]
    entry = ["INSERT audit_entries", "UPDATE audit_seal", "UPDATE users"]
    assert written == [[*entry, "INSERT audit_checkpoints", "UPDATE audit_seal"]]
    signed_in = _newest(reopened, "signed in")
    # The checkpoint seals the trail up to the 'signed in' entry, in the database and in
    # both files kept beside it.
    anchor = json.loads((reopened.paths.root / ANCHOR_FILE).read_text(encoding="utf-8"))
    assert anchor["checkpoint"]["seq"] == signed_in
    head = (reopened.paths.root / HEAD_FILE).read_text(encoding="ascii").split()
    assert int(head[0]) == signed_in
    assert {u.name: u.last_sign_in_at for u in reopened.users.list_users()}[HEAD] == clock()
    check = reopened.audit.verify()
    assert check.ok, check.problems


def test_an_office_sign_in_writes_its_entry_and_time_together_and_makes_no_checkpoint(
    reopened: Services,
) -> None:
    transactions = _writes_by_transaction(reopened)
    reopened.users.sign_in(OFFICE, OFFICE_PASSWORD)
    assert [t for t in transactions if t] == [
        ["INSERT audit_entries", "UPDATE audit_seal", "UPDATE users"]
    ]


def test_a_problem_found_at_sign_in_is_recorded_after_the_entry_and_nothing_is_sealed(
    reopened: Services, clock: Clock
) -> None:
    # Someone removed the record of the newest entry kept outside the database.
    (reopened.paths.root / HEAD_FILE).unlink()
    reopened.users.sign_in(HEAD, HEAD_PASSWORD)
    newest = reopened.audit.entries(limit=2)
    assert [e.action for e in newest] == ["audit trail problem found", "signed in"]
    assert HEAD_FILE in newest[0].detail
    anchor = json.loads((reopened.paths.root / ANCHOR_FILE).read_text(encoding="utf-8"))
    assert anchor["checkpoint"]["seq"] < newest[1].seq  # no checkpoint over the problem
    assert {u.name: u.last_sign_in_at for u in reopened.users.list_users()}[HEAD] == clock()
    assert not reopened.audit.verify().ok  # still reported, never recreated
