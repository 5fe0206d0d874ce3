"""Roles backed by keys: the safeguarding key is held only by heads and the recovery key,
and a user's role cannot be raised by editing the database or the keyring.

The attacker here is an office user with their own password and a copy of every file,
working with the project's own primitives (``Keyring``, ``connect_encrypted``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.db.engine import connect_encrypted
from app.domain.access import Role
from app.domain.errors import KeyFileError, SignInError
from app.security.crypto import WrongKeyError
from app.security.keyring import RECOVERY, Keyring, KeyringDamagedError
from app.services.casebook import Services, open_casebook
from app.services.keys import normalise_recovery_key
from tests.conftest import Clock

HEAD_PASSWORD = "tide-marble-orchard-42"
OFFICE_PASSWORD = "lantern-river-copper-7"
DSL_PASSWORD = "saffron-kettle-meadow-9"


@pytest.fixture
def casebook(data_dir: Path, clock: Clock) -> str:
    """A casebook with a head teacher and an office user; returns the recovery key."""
    services = open_casebook(data_dir, clock=clock)
    try:
        recovery = services.users.create_first_user("head", HEAD_PASSWORD)
        services.users.add_user("office", Role.OFFICE, OFFICE_PASSWORD)
    finally:
        services.close()
    return recovery


def read_keyring(data_dir: Path) -> Keyring:
    return Keyring.parse((data_dir / "casebook.keys").read_bytes())


def signed_in(data_dir: Path, clock: Clock, name: str, password: str) -> Services:
    services = open_casebook(data_dir, clock=clock)
    try:
        services.users.sign_in(name, password)
    except BaseException:
        services.close()
        raise
    return services


def test_only_heads_and_the_recovery_key_open_the_safeguarding_key(
    data_dir: Path, casebook: str
) -> None:
    keyring = read_keyring(data_dir)
    assert keyring.head_check
    office = keyring.open_account("office", OFFICE_PASSWORD)
    assert office.head_key is None
    head = keyring.open_account("head", HEAD_PASSWORD)
    assert head.head_key is not None
    assert head.head_key.check_value() == keyring.head_check
    recovery = keyring.open_account(RECOVERY, normalise_recovery_key(casebook))
    assert recovery.head_key == head.head_key
    # The office user's entry carries no copy of the key in any form.
    document = json.loads((data_dir / "casebook.keys").read_bytes())
    assert "head" not in document["wraps"]["office"]
    assert "head" in document["wraps"]["head"]


def test_copying_a_heads_key_seal_into_an_office_entry_does_not_open_it(
    data_dir: Path, casebook: str
) -> None:
    document = json.loads((data_dir / "casebook.keys").read_bytes())
    # Every way an office user might graft the head's seal onto their own entry.
    grafts = [
        {**document["wraps"]["office"], "head": document["wraps"]["head"]["head"]},
        {
            **document["wraps"]["office"],
            "head": document["wraps"]["head"]["head"],
            "pub": document["wraps"]["head"]["pub"],
        },
    ]
    for graft in grafts:
        edited = {**document, "wraps": {**document["wraps"], "office": graft}}
        keyring = Keyring.parse(json.dumps(edited).encode())
        with pytest.raises(KeyringDamagedError):
            keyring.open_account("office", OFFICE_PASSWORD)


def test_a_role_row_edited_with_the_data_key_is_refused_at_sign_in(
    data_dir: Path, casebook: str, clock: Clock
) -> None:
    # Offline, with only the office password: the data key opens the database...
    key = read_keyring(data_dir).open_account("office", OFFICE_PASSWORD).key
    connection = connect_encrypted(data_dir / "casebook.sqlite3", key)
    connection.execute("UPDATE users SET role = 'head' WHERE name_key = 'office'")
    connection.commit()
    connection.close()
    # ...but the role it wrote is not backed by the key, and sign-in says so.
    services = open_casebook(data_dir, clock=clock)
    try:
        with pytest.raises(SignInError, match="changed outside Conduct Casebook") as refused:
            services.users.sign_in("office", OFFICE_PASSWORD)
        assert refused.value.message.count(".") == 1  # one sentence
        assert services.ctx.user is None
        assert services.keys.holder.head is None
    finally:
        services.close()


def test_a_heads_record_changed_with_the_data_key_is_refused(
    data_dir: Path, casebook: str, clock: Clock
) -> None:
    key = read_keyring(data_dir).open_account("office", OFFICE_PASSWORD).key
    connection = connect_encrypted(data_dir / "casebook.sqlite3", key)
    # Demoting the head in the records (to lock them out of head work) is found too.
    connection.execute("UPDATE users SET role = 'office' WHERE name_key = 'head'")
    connection.commit()
    connection.close()
    services = open_casebook(data_dir, clock=clock)
    try:
        with pytest.raises(SignInError, match="changed outside Conduct Casebook"):
            services.users.sign_in("head", HEAD_PASSWORD)
    finally:
        services.close()


def test_a_role_written_into_the_keyring_gives_no_key(
    data_dir: Path, casebook: str, clock: Clock
) -> None:
    # Re-wrapping one's own entry (possible with one's own password) still holds no key,
    # so a head role claimed in the records is refused.
    keyring = read_keyring(data_dir)
    opened = keyring.open_account("office", OFFICE_PASSWORD)
    keyring.add_account("office", OFFICE_PASSWORD, opened.key)
    (data_dir / "casebook.keys").write_bytes(keyring.dump())
    connection = connect_encrypted(data_dir / "casebook.sqlite3", opened.key)
    connection.execute("UPDATE users SET role = 'head', seal = '' WHERE name_key = 'office'")
    connection.commit()
    connection.close()
    services = open_casebook(data_dir, clock=clock)
    try:
        with pytest.raises(SignInError, match="changed outside Conduct Casebook"):
            services.users.sign_in("office", OFFICE_PASSWORD)
    finally:
        services.close()


def test_a_head_made_by_a_head_gets_the_key_and_loses_it_when_demoted(
    data_dir: Path, casebook: str, clock: Clock
) -> None:
    services = signed_in(data_dir, clock, "head", HEAD_PASSWORD)
    try:
        services.users.add_user("dsl", Role.OFFICE, DSL_PASSWORD)
        assert read_keyring(data_dir).open_account("dsl", DSL_PASSWORD).head_key is None
        services.users.set_role("dsl", Role.HEAD)
        assert read_keyring(data_dir).open_account("dsl", DSL_PASSWORD).head_key is not None
        services.users.sign_in("dsl", DSL_PASSWORD)
        assert services.keys.holder.head is not None
        services.users.sign_in("head", HEAD_PASSWORD)
        services.users.set_role("dsl", Role.OFFICE)
        assert read_keyring(data_dir).open_account("dsl", DSL_PASSWORD).head_key is None
        assert services.users.sign_in("dsl", DSL_PASSWORD).role is Role.OFFICE
        assert services.keys.holder.head is None
    finally:
        services.close()


def test_a_password_reset_with_the_recovery_key_keeps_a_heads_key(
    data_dir: Path, casebook: str, clock: Clock
) -> None:
    services = open_casebook(data_dir, clock=clock)
    try:
        services.users.reset_password("head", casebook, "amber-violin-harvest-3")
        assert services.keys.holder.head is not None
        services.users.reset_password("office", casebook, "pebble-orchid-lantern-5")
        assert services.keys.holder.head is None  # office staff never hold it
    finally:
        services.close()
    keyring = read_keyring(data_dir)
    assert keyring.open_account("head", "amber-violin-harvest-3").head_key is not None
    assert keyring.open_account("office", "pebble-orchid-lantern-5").head_key is None


def test_a_damaged_seal_of_the_key_is_reported_as_damage(
    data_dir: Path, casebook: str, clock: Clock
) -> None:
    document = json.loads((data_dir / "casebook.keys").read_bytes())
    sealed = document["wraps"]["head"]["head"]["sealed"]
    document["wraps"]["head"]["head"]["sealed"] = ("A" if sealed[0] != "A" else "B") + sealed[1:]
    (data_dir / "casebook.keys").write_text(json.dumps(document))
    services = open_casebook(data_dir, clock=clock)
    try:
        with pytest.raises(KeyFileError, match="damaged"):
            services.users.sign_in("head", HEAD_PASSWORD)
    finally:
        services.close()


# What sign-in costs beyond one key derivation (the role checks add no second derivation
# and no slow scan) depends on the machine and its load: it is measured, with its target,
# by benchmarks/refusal_and_sign_in_times.py.


def test_a_new_recovery_key_from_the_command_line_holds_the_safeguarding_key(
    data_dir: Path, casebook: str
) -> None:
    from tests.e2e.test_cli import assert_refused, cli

    head = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": HEAD_PASSWORD}
    office = {"CASEBOOK_USER": "office", "CASEBOOK_PASSWORD": OFFICE_PASSWORD}
    refused = cli("users", "new-recovery-key", data_dir=data_dir, env=office)
    assert_refused(refused, 1, "does not allow you to manage users")
    made = cli("users", "new-recovery-key", data_dir=data_dir, env=head)
    assert made.returncode == 0, made.stderr
    new_key = made.stdout.split("Recovery key: ")[1].split("\n")[0]
    keyring = read_keyring(data_dir)
    assert keyring.open_account(RECOVERY, normalise_recovery_key(new_key)).head_key is not None
    with pytest.raises(WrongKeyError):
        keyring.open_account(RECOVERY, normalise_recovery_key(casebook))


def test_a_new_recovery_key_holds_the_audit_key_too(
    data_dir: Path, casebook: str, clock: Clock
) -> None:
    # The recovery key's one secret opens the data key, the safeguarding key and the head
    # teachers' audit key (docs/audit-trail.md); a new one must not lose the audit key.
    services = signed_in(data_dir, clock, "head", HEAD_PASSWORD)
    try:
        held = services.audit.audit_key
        assert held is not None
        new_key = services.users.replace_recovery_key()
    finally:
        services.close()
    services = open_casebook(data_dir, clock=clock)
    try:
        services.keys.open_with_recovery_key(new_key)
        opened = services.keys.open_audit_key()
        assert opened is not None
        assert opened.check_value() == held.check_value()
        assert services.keys.opened is not None
        assert services.keys.opened.head_key is not None
    finally:
        services.close()
