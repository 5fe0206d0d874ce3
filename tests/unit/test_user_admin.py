"""The head teacher sets another user's password and changes roles; one head always remains."""

from __future__ import annotations

import pytest

from app.domain.access import Role
from app.domain.errors import AccessDenied, SignInError, ValidationError
from app.domain.records import CaseFilter, CaseSort
from app.services.casebook import Services
from tests.conftest import Clock

HEAD_PASSWORD = "tide-marble-orchard-42"
OFFICE_PASSWORD = "lantern-river-copper-7"
NEW_PASSWORD = "copper-kettle-harbour-3"


@pytest.fixture
def signed_in(services: Services) -> Services:
    services.users.create_first_user("head", HEAD_PASSWORD)
    services.users.add_user("Mrs Office", Role.OFFICE, OFFICE_PASSWORD)
    services.users.sign_in("head", HEAD_PASSWORD)
    return services


def _actions(services: Services, action: str) -> list[tuple[str, str, str, str]]:
    return [(e.user, e.action, e.target, e.detail) for e in services.audit.entries(action=action)]


def test_set_password_replaces_the_old_one_and_unlocks(signed_in: Services, clock: Clock) -> None:
    users = signed_in.users
    for _ in range(10):
        with pytest.raises(SignInError):
            users.sign_in("Mrs Office", "forgotten forgotten")
        clock.advance(minutes=2)
    users.sign_in("head", HEAD_PASSWORD)
    users.set_password("mrs office", NEW_PASSWORD)
    assert not [u for u in users.list_users() if u.locked]
    with pytest.raises(SignInError):
        users.sign_in("Mrs Office", OFFICE_PASSWORD)
    clock.advance(minutes=1)
    assert users.sign_in("Mrs Office", NEW_PASSWORD).role is Role.OFFICE
    users.sign_in("head", HEAD_PASSWORD)
    assert _actions(signed_in, "set password") == [("head", "set password", "mrs office", "")]


def test_set_password_refuses_weak_passwords_unknown_users_and_other_roles(
    signed_in: Services,
) -> None:
    users = signed_in.users
    with pytest.raises(ValidationError, match="at least 10 characters"):
        users.set_password("Mrs Office", "short")
    with pytest.raises(ValidationError, match="must not contain the user name"):
        users.set_password("Mrs Office", "mrs-office-2026-rules")
    with pytest.raises(ValidationError, match="There is no user called Mr Nobody"):
        users.set_password("Mr Nobody", NEW_PASSWORD)
    assert users.sign_in("Mrs Office", OFFICE_PASSWORD).name == "Mrs Office"
    with pytest.raises(AccessDenied, match="does not allow you to manage users"):
        users.set_password("head", NEW_PASSWORD)
    users.sign_in("head", HEAD_PASSWORD)  # the head's password is unchanged
    assert ("Mrs Office", "refused: set password", "head", "") in _actions(
        signed_in, "set password"
    )


def test_set_role_changes_what_the_user_may_do(signed_in: Services) -> None:
    users = signed_in.users
    info = users.set_role("Mrs Office", Role.READ_ONLY)
    assert (info.name, info.role) == ("Mrs Office", Role.READ_ONLY)
    assert users.sign_in("Mrs Office", OFFICE_PASSWORD).role is Role.READ_ONLY
    with pytest.raises(AccessDenied, match="does not allow you to see cases"):
        signed_in.cases.list_cases(CaseFilter(), CaseSort())
    with pytest.raises(AccessDenied, match="manage users"):
        users.set_role("Mrs Office", Role.HEAD)
    users.sign_in("head", HEAD_PASSWORD)
    assert ("head", "change role", "Mrs Office", "read_only") in _actions(signed_in, "change role")


def test_the_last_head_teacher_keeps_the_role(signed_in: Services, clock: Clock) -> None:
    users = signed_in.users
    with pytest.raises(ValidationError, match="head is the only one"):
        users.set_role("head", Role.OFFICE)
    assert ("head", "refused: change role", "head", "the only head teacher") in _actions(
        signed_in, "change role"
    )
    # A second head teacher who is locked out cannot take over either.
    users.set_role("Mrs Office", Role.HEAD)
    for _ in range(10):
        with pytest.raises(SignInError):
            users.sign_in("Mrs Office", "wrong wrong wrong")
        clock.advance(minutes=2)
    users.sign_in("head", HEAD_PASSWORD)
    with pytest.raises(ValidationError, match="only one"):
        users.set_role("head", Role.READ_ONLY)
    users.unlock_user("Mrs Office")
    # With another head teacher who can sign in, the first may step down, at once.
    assert users.set_role("head", Role.OFFICE).role is Role.OFFICE
    assert signed_in.ctx.current_user.role is Role.OFFICE
    with pytest.raises(AccessDenied):
        users.list_users()
    users.sign_in("Mrs Office", OFFICE_PASSWORD)
    assert {u.name: u.role for u in users.list_users()} == {
        "head": Role.OFFICE,
        "Mrs Office": Role.HEAD,
    }
    with pytest.raises(ValidationError, match="Mrs Office is the only one"):
        users.set_role("Mrs Office", Role.OFFICE)


def test_the_users_list_shows_when_each_account_last_signed_in(
    signed_in: Services, clock: Clock
) -> None:
    users = signed_in.users
    head_time = clock()
    clock.advance(minutes=5)
    office_time = clock()
    users.sign_in("Mrs Office", OFFICE_PASSWORD)
    clock.advance(minutes=5)
    with pytest.raises(SignInError):
        users.sign_in("Mrs Office", "forgotten forgotten")  # a refusal is not a sign-in
    users.sign_in("head", HEAD_PASSWORD)
    last = {u.name: u.last_sign_in_at for u in users.list_users()}
    assert last == {"head": clock(), "Mrs Office": office_time}
    assert head_time < office_time < clock()
    # Each time is written with its 'signed in' entry.
    signed = [e.at for e in signed_in.audit.entries(action="signed in", user="Mrs Office")]
    assert signed == [office_time]
