"""Users, roles, lock-out and the hash-chained audit trail, on a real casebook file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.domain.access import Role
from app.domain.categories import Category
from app.domain.errors import (
    AccessDenied,
    AccountLockedError,
    NotFoundError,
    SignInError,
    ValidationError,
)
from app.domain.records import CaseDetail, CaseFilter, CaseSort
from app.services.casebook import Services, open_casebook
from tests.conftest import Clock, connect_database

HEAD_PASSWORD = "tide-marble-orchard-42"
OFFICE_PASSWORD = "lantern-river-copper-7"


@pytest.fixture
def recovery_key(services: Services) -> str:
    return services.users.create_first_user("head", HEAD_PASSWORD)


def test_weak_passwords_are_refused(services: Services) -> None:
    for weak in ("short", "password123", "aaaaaaaaaaaa", "head-is-the-best-1"):
        with pytest.raises(ValidationError):
            services.users.create_first_user("head", weak)
    assert not services.users.has_users()


def test_sign_in_sets_who_is_recorded(
    services: Services, recovery_key: str, make_case: Callable[..., CaseDetail]
) -> None:
    assert services.users.sign_in("HEAD", HEAD_PASSWORD).role is Role.HEAD
    case = make_case()
    assert case.events[0].actor == "head"


def test_ten_wrong_passwords_lock_the_account_with_back_off(
    services: Services, recovery_key: str, clock: Clock
) -> None:
    users = services.users
    for attempt in range(1, 10):
        with pytest.raises(SignInError) as refused:
            users.sign_in("head", "wrong password")
        assert not isinstance(refused.value, AccountLockedError)
        if attempt >= 3:
            # Straight away again: told to wait, and the guess is not even tried.
            with pytest.raises(AccountLockedError, match="wait"):
                users.sign_in("head", HEAD_PASSWORD)
        clock.advance(minutes=2)
    with pytest.raises(AccountLockedError, match="now locked"):
        users.sign_in("head", "wrong password")
    clock.advance(hours=5)
    with pytest.raises(AccountLockedError, match="recovery key"):
        users.sign_in("head", HEAD_PASSWORD)
    with pytest.raises(SignInError, match="recovery key is not right"):
        users.reset_password("head", "AAAAA-BBBBB", "new-lantern-harbour-9")
    users.reset_password("head", recovery_key.lower(), "new-lantern-harbour-9")
    assert users.sign_in("head", "new-lantern-harbour-9").name == "head"


def test_an_administrator_unlocks_another_user(
    services: Services, recovery_key: str, clock: Clock
) -> None:
    services.users.add_user("Mrs Office", Role.OFFICE, OFFICE_PASSWORD)
    for _ in range(10):
        with pytest.raises(SignInError):
            services.users.sign_in("Mrs Office", "nope nope nope")
        clock.advance(minutes=2)
    assert [u.locked for u in services.users.list_users()] == [False, True]  # head, Mrs Office
    services.users.sign_in("head", HEAD_PASSWORD)
    services.users.unlock_user("mrs office")
    services.users.sign_in("Mrs Office", OFFICE_PASSWORD)
    with pytest.raises(AccessDenied):
        services.users.unlock_user("head")


def test_office_staff_never_see_safeguarding_cases_or_their_evidence(
    services: Services, recovery_key: str, make_case: Callable[..., CaseDetail]
) -> None:
    ordinary = make_case("Rude comments")
    hidden = make_case("Photo of pupils", {Category.SAFEGUARDING})
    services.evidence.add_bytes(hidden.id, [("note.txt", b"private words")])
    services.users.add_user("Mrs Office", Role.OFFICE, OFFICE_PASSWORD)
    services.users.sign_in("Mrs Office", OFFICE_PASSWORD)

    rows = services.cases.list_cases(CaseFilter(), CaseSort("reference", False))
    assert [r.reference for r in rows] == [ordinary.reference]
    assert services.cases.counts(CaseFilter()).total == 1
    assert services.cases.get_case(ordinary.id).title == "Rude comments"
    with pytest.raises(AccessDenied, match="safeguarding"):
        services.cases.get_case(hidden.id)
    with pytest.raises(NotFoundError, match="There is no case with the reference"):
        services.cases.find_case(hidden.reference)
    with pytest.raises(AccessDenied):
        services.evidence.list_evidence(hidden.id)
    with pytest.raises(AccessDenied):
        services.cases.add_note(hidden.id, "sneaky")
    with pytest.raises(AccessDenied):
        services.users.add_user("Someone", Role.HEAD, "harbour-lantern-stone-3")
    with pytest.raises(AccessDenied):
        services.audit.verify()
    # Letters and changes on ordinary cases are the office's everyday work.
    services.cases.add_note(ordinary.id, "Phoned the parent.")


def test_read_only_users_see_no_cases(
    services: Services, recovery_key: str, make_case: Callable[..., CaseDetail]
) -> None:
    case = make_case()
    services.users.add_user("Governor", Role.READ_ONLY, "orchard-tide-lamp-88")
    services.users.sign_in("Governor", "orchard-tide-lamp-88")
    with pytest.raises(AccessDenied, match="Read-only"):
        services.cases.list_cases(CaseFilter(), CaseSort("reference", False))
    with pytest.raises(AccessDenied):
        services.cases.get_case(case.id)
    with pytest.raises(AccessDenied):
        services.people.search_people("")


# ----- the audit trail ------------------------------------------------------------------


@pytest.fixture
def audited(
    services: Services, recovery_key: str, make_case: Callable[..., CaseDetail]
) -> Services:
    services.users.sign_in("head", HEAD_PASSWORD)
    case = make_case()
    services.cases.get_case(case.id)
    services.cases.add_note(case.id, "A note")
    with pytest.raises(SignInError):
        services.users.sign_in("head", "not my password")
    return services


def _sql(services: Services, statement: str) -> None:
    connection = connect_database(services)
    with connection:
        connection.execute(statement)
    connection.close()


def test_the_audit_trail_records_views_changes_and_sign_ins(audited: Services) -> None:
    actions = [e.action for e in reversed(audited.audit.entries())]
    assert actions[:2] == ["set up casebook", "signed in"]
    assert "open case" in actions
    assert "view case" in actions
    assert "add note" in actions
    assert "sign-in failed" in actions
    check = audited.audit.verify()
    assert check.ok, check.problems
    csv = audited.audit.export_csv(audited.audit.entries(action="note")).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("Number,Time (UK),User,Action")
    assert "add note,SM-2026-0001" in csv


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("UPDATE audit_entries SET user = 'someone else' WHERE seq = 3", "entry 3 "),
        ("DELETE FROM audit_entries WHERE seq = 3", "before entry 4"),
        (
            "UPDATE audit_entries SET id = CASE id WHEN 3 THEN 1003 ELSE id END",
            "out of order",
        ),
    ],
    ids=["edited", "removed", "reordered"],
)
def test_tampering_is_detected_and_named(
    audited: Services, data_dir: Path, statement: str, words: str
) -> None:
    _sql(audited, statement)
    check = audited.audit.verify()
    assert not check.ok
    assert any(words in problem for problem in check.problems), check.problems


def test_removing_the_newest_entries_is_detected(audited: Services, data_dir: Path) -> None:
    newest = audited.audit.entries()[0].seq
    _sql(audited, f"DELETE FROM audit_entries WHERE seq >= {newest - 1}")
    check = audited.audit.verify()
    assert any("2 audit entries" in p and "removed" in p for p in check.problems), check.problems


def test_a_new_casebook_opened_by_a_program_has_an_intact_trail(tmp_path: Path) -> None:
    services = open_casebook(tmp_path / "c")
    try:
        assert services.audit.verify().ok
    finally:
        services.close()
