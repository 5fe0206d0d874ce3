"""`casebook users set-password` and `users set-role`, as a script sees them."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import CliDemos
from tests.e2e.test_cli import assert_refused, cli

HEAD = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": "demo"}
OFFICE_PASSWORD = "lantern-river-copper-7"
NEW_PASSWORD = "copper-kettle-harbour-3"


def _demo_with_office_user(tmp_path: Path, cli_demos: CliDemos) -> Path:
    data = cli_demos.copy_to(
        tmp_path / "casebook",
        lambda folder: cli("demo", data_dir=folder, env=HEAD),
        user="head",
        password="demo",
    )
    added = cli(
        "users",
        "add",
        "Mrs Office",
        "--role",
        "office",
        data_dir=data,
        env={**HEAD, "CASEBOOK_NEW_PASSWORD": OFFICE_PASSWORD},
    )
    assert added.returncode == 0, added.stderr
    return data


def test_set_password_gives_another_user_a_new_password(
    tmp_path: Path, cli_demos: CliDemos
) -> None:
    data = _demo_with_office_user(tmp_path, cli_demos)
    weak = cli(
        "users",
        "set-password",
        "Mrs Office",
        data_dir=data,
        env={**HEAD, "CASEBOOK_NEW_PASSWORD": "short"},
    )
    assert_refused(weak, 1, "at least 10 characters")
    done = cli(
        "users",
        "set-password",
        "mrs office",
        data_dir=data,
        env={**HEAD, "CASEBOOK_NEW_PASSWORD": NEW_PASSWORD},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Set a new password for mrs office; the account is unlocked.\n"
    office = {"CASEBOOK_USER": "Mrs Office", "CASEBOOK_PASSWORD": NEW_PASSWORD}
    assert cli("cases", data_dir=data, env=office).returncode == 0
    old = {"CASEBOOK_USER": "Mrs Office", "CASEBOOK_PASSWORD": OFFICE_PASSWORD}
    assert_refused(cli("cases", data_dir=data, env=old), 1, "password is not right")
    # Office staff may not set anyone's password; and no new password means no change.
    refused = cli(
        "users",
        "set-password",
        "head",
        data_dir=data,
        env={**office, "CASEBOOK_NEW_PASSWORD": NEW_PASSWORD},
    )
    assert_refused(refused, 1, "does not allow you to manage users")
    missing = cli(
        "users",
        "set-password",
        "Mrs Office",
        data_dir=data,
        env={**HEAD, "CASEBOOK_NEW_PASSWORD": ""},
    )
    assert_refused(missing, 1, "CASEBOOK_NEW_PASSWORD")


def test_set_role_changes_a_role_but_never_the_last_head_teacher(
    tmp_path: Path, cli_demos: CliDemos
) -> None:
    data = _demo_with_office_user(tmp_path, cli_demos)
    changed = cli("users", "set-role", "Mrs Office", "--role", "read-only", data_dir=data, env=HEAD)
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout == "Mrs Office is now Read-only (governors’ reports).\n"
    listed = cli("users", "list", data_dir=data, env=HEAD)
    assert "Mrs Office" in listed.stdout and "Read-only (governors’ reports)" in listed.stdout
    reader = {"CASEBOOK_USER": "Mrs Office", "CASEBOOK_PASSWORD": OFFICE_PASSWORD}
    assert_refused(cli("cases", data_dir=data, env=reader), 1, "does not allow you to see cases")
    last = cli("users", "set-role", "head", "--role", "office", data_dir=data, env=HEAD)
    assert_refused(last, 1, "head is the only one")
    bad = cli("users", "set-role", "head", "--role", "caretaker", data_dir=data, env=HEAD)
    assert_refused(bad, 2, "'caretaker' is not a role", "head, office, read_only")
    nobody = cli("users", "set-role", "Mr Nobody", "--role", "office", data_dir=data, env=HEAD)
    assert_refused(nobody, 1, "There is no user called Mr Nobody.")
