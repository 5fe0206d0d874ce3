"""Sign-in, roles and the audit trail through the ``casebook`` command, as a script sees them."""

from __future__ import annotations

from pathlib import Path

from app.db.engine import connect_encrypted
from tests.conftest import folder_key
from tests.e2e.conftest import CliDemos
from tests.e2e.test_cli import assert_refused, cli

PASSWORD = "tide-marble-orchard-42"


def _demo(tmp_path: Path, cli_demos: CliDemos) -> Path:
    """A copy of a demonstration casebook whose head teacher is ``head`` (password demo)."""
    head = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": "demo"}
    return cli_demos.copy_to(
        tmp_path / "casebook",
        lambda folder: cli("demo", data_dir=folder, env=head),
        user="head",
        password="demo",
    )


def test_init_shows_the_recovery_key_once_and_refuses_a_second_time(tmp_path: Path) -> None:
    data = tmp_path / "casebook"
    weak = cli("init", data_dir=data, env={"CASEBOOK_PASSWORD": "short"})
    assert_refused(weak, 1, "at least 10 characters")
    made = cli("init", data_dir=data, env={"CASEBOOK_USER": "", "CASEBOOK_PASSWORD": PASSWORD})
    assert made.returncode == 0, made.stderr
    assert "with the user head" in made.stdout
    assert "Recovery key: " in made.stdout
    again = cli("init", data_dir=data, env={"CASEBOOK_PASSWORD": PASSWORD})
    assert_refused(again, 1, "already set up")


def test_commands_need_the_right_password(tmp_path: Path) -> None:
    data = tmp_path / "casebook"
    init = cli("init", data_dir=data, env={"CASEBOOK_USER": "", "CASEBOOK_PASSWORD": PASSWORD})
    assert init.returncode == 0, init.stderr
    ok = cli("cases", data_dir=data, env={"CASEBOOK_USER": "", "CASEBOOK_PASSWORD": PASSWORD})
    assert ok.stdout == "0 cases\n", ok.stderr
    wrong = cli("cases", data_dir=data, env={"CASEBOOK_USER": "", "CASEBOOK_PASSWORD": "x" * 12})
    assert_refused(wrong, 1, "password is not right")
    # No password and no terminal to type it: a clear message, not a hang.
    missing = cli("cases", data_dir=data, env={"CASEBOOK_USER": "", "CASEBOOK_PASSWORD": ""})
    assert_refused(missing, 1, "CASEBOOK_PASSWORD")
    fresh = cli("cases", data_dir=tmp_path / "new", env={"CASEBOOK_PASSWORD": PASSWORD})
    assert_refused(fresh, 1, "casebook init")


def test_demo_says_which_password_it_used(tmp_path: Path) -> None:
    data = tmp_path / "casebook"
    made = cli("demo", data_dir=data, env={"CASEBOOK_USER": "", "CASEBOOK_PASSWORD": ""})
    assert made.returncode == 0, made.stderr
    assert "Sign in as head with the password 'demo'" in made.stdout
    listed = cli("cases", data_dir=data, env={"CASEBOOK_USER": "", "CASEBOOK_PASSWORD": "demo"})
    assert listed.stdout.splitlines()[-1] == "13 cases"


def test_office_staff_are_refused_safeguarding_cases_in_the_cli(
    tmp_path: Path, cli_demos: CliDemos
) -> None:
    head = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": "demo"}
    data = _demo(tmp_path, cli_demos)
    added = cli(
        "users",
        "add",
        "Mrs Office",
        "--role",
        "office",
        data_dir=data,
        env={**head, "CASEBOOK_NEW_PASSWORD": PASSWORD},
    )
    assert added.returncode == 0, added.stderr
    office = {"CASEBOOK_USER": "Mrs Office", "CASEBOOK_PASSWORD": PASSWORD}
    listed = cli("cases", "--json", data_dir=data, env=office)
    assert listed.returncode == 0, listed.stderr
    assert "safeguarding" not in listed.stdout
    # SM-2026-0003 is the demonstration set's safeguarding case.
    refused = cli("case", "show", "SM-2026-0003", data_dir=data, env=office)
    missing = cli("case", "show", "SM-2026-0999", data_dir=data, env=office)
    # The same words as for a case that does not exist: nothing tells them it is there.
    assert_refused(refused, 1, "There is no case with the reference SM-2026-0003.")
    assert_refused(missing, 1, "There is no case with the reference SM-2026-0999.")
    assert refused.stderr.replace("0003", "0999") == missing.stderr
    assert_refused(cli("audit", "verify", data_dir=data, env=office), 1, "audit trail")


def test_audit_verify_names_an_edited_entry(tmp_path: Path, cli_demos: CliDemos) -> None:
    head = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": "demo"}
    data = _demo(tmp_path, cli_demos)
    good = cli("audit", "verify", data_dir=data, env=head)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("The audit trail is intact (")
    connection = connect_encrypted(data / "casebook.sqlite3", folder_key(data, "head", "demo"))
    with connection:
        connection.execute("UPDATE audit_entries SET target = 'SM-2026-0009' WHERE seq = 5")
    connection.close()
    bad = cli("audit", "verify", data_dir=data, env=head)
    assert bad.returncode == 1
    assert "entry 5 " in bad.stderr and "has been changed" in bad.stderr
    out = tmp_path / "audit.csv"
    exported = cli("audit", "export", "--out", str(out), "--user", "head", data_dir=data, env=head)
    assert exported.returncode == 0, exported.stderr
    assert "signed in" in out.read_text(encoding="utf-8-sig")


def test_audit_verify_reports_a_missing_head_file_until_resealed(
    tmp_path: Path, cli_demos: CliDemos
) -> None:
    head = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": "demo"}
    data = _demo(tmp_path, cli_demos)
    (data / "audit-head.txt").unlink()
    for _ in range(2):  # the sign-in of a check does not write it again
        bad = cli("audit", "verify", data_dir=data, env=head)
        assert bad.returncode == 1
        assert "audit-head.txt" in bad.stderr and "missing" in bad.stderr
    resealed = cli("audit", "reseal", data_dir=data, env=head)
    assert resealed.returncode == 0, resealed.stderr
    assert "sealed again" in resealed.stdout
    good = cli("audit", "verify", data_dir=data, env=head)
    assert good.returncode == 0, good.stderr
