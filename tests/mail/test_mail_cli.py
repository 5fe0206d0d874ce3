"""The mail commands as a school's script (or scheduled task) runs them, against the real
SMTP server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from app.domain.access import Role
from app.domain.categories import Category
from app.security.keyring import TEST_COST_SETTING
from app.services.casebook import open_casebook
from app.services.demo import DEMO_SCHOOL_PROFILE
from tests.e2e.cli_runner import run_in_process
from tests.mail.conftest import PARENT_EMAIL, issue_letter
from tests.mail.smtp_server import PASSWORD, USER, MailServer

HEAD, HEAD_PASSWORD = "Head Teacher", "a long head password 1"
ROBOT, ROBOT_PASSWORD = "reminders", "a long robot password 2"


@pytest.fixture
def casebook(tmp_path: Path) -> Path:
    """A casebook with a head, a read-only account for reminders and two letters' cases."""
    data = tmp_path / "casebook"
    services = open_casebook(data, actor=HEAD)
    try:
        services.users.create_first_user(HEAD, HEAD_PASSWORD)
        services.users.sign_in(HEAD, HEAD_PASSWORD)
        services.users.add_user(ROBOT, Role.READ_ONLY, ROBOT_PASSWORD)
        services.letters.profile.save(DEMO_SCHOOL_PROFILE)
        issue_letter(services)
        issue_letter(services, categories=frozenset({Category.SAFEGUARDING}))
    finally:
        services.close()
    return data


def _env(server: MailServer | None = None, **extra: str) -> dict[str, str]:
    env = {
        "CASEBOOK_USER": HEAD,
        "CASEBOOK_PASSWORD": HEAD_PASSWORD,
        "PATH": "/usr/bin:/bin",
        TEST_COST_SETTING: os.environ.get(TEST_COST_SETTING, ""),
        "SSL_CERT_FILE": os.environ.get("SSL_CERT_FILE", ""),
    }
    env.update(extra)
    return env


def _run(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_in_process(["--data-dir", str(data), *args], _env(**env))


def _set_up_mail(data: Path, server: MailServer) -> None:
    done = _run(
        data, "mail", "set", "--host", "localhost", "--port", str(server.port), "--starttls",
        "--user", USER, "--head-address", "head@school.example",
        "--dsl-address", "dsl@school.example",
        CASEBOOK_MAIL_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "saved (sealed)" in done.stdout and PASSWORD not in done.stdout


def test_set_test_send_and_show(casebook: Path, smtp_server: MailServer) -> None:
    _set_up_mail(casebook, smtp_server)
    tested = _run(casebook, "mail", "test", "--to", "someone@school.example")
    assert tested.returncode == 0, tested.stderr
    assert "server replied: 250" in tested.stdout
    letters = json.loads(_run(casebook, "letters", "SM-2026-0001", "--json").stdout)
    sent = _run(casebook, "send", str(letters[0]["id"]), "--cc-office")
    assert sent.returncode == 0, sent.stderr
    assert f"to {PARENT_EMAIL} (copy to office@" in sent.stdout
    assert "Recorded as sent on " in sent.stdout
    assert len(smtp_server.received) == 2
    again = _run(casebook, "send", str(letters[0]["id"]))
    assert again.returncode == 0 and len(smtp_server.received) == 2  # nothing sent twice
    shown = _run(casebook, "mail", "show")
    assert "localhost" in shown.stdout and PASSWORD not in shown.stdout


def test_letter_with_email_issues_and_sends(
    casebook: Path, smtp_server: MailServer, tmp_path: Path
) -> None:
    _set_up_mail(casebook, smtp_server)
    done = _run(
        casebook,
        "letter",
        "SM-2026-0001",
        "--kind",
        "removal",
        "--to",
        "zoë łukasiewicz",
        "--email",
        "--confirm-post-details",
    )
    assert done.returncode == 0, done.stderr
    assert f"to {PARENT_EMAIL}" in done.stdout
    listed = json.loads(_run(casebook, "letters", "SM-2026-0001", "--json").stdout)
    assert listed[-1]["method"] == "email"
    assert len(smtp_server.received) == 1
    # Without --email, --out is still needed (exit 2, one line).
    missing = _run(casebook, "letter", "SM-2026-0001", "--kind", "acknowledgement")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1


def test_failures_are_one_line_and_the_letter_stays_prepared(
    casebook: Path, smtp_server: MailServer
) -> None:
    not_set = _run(casebook, "send", "1")
    assert not_set.returncode == 1 and "not set up yet" in not_set.stderr
    _set_up_mail(casebook, smtp_server)
    smtp_server.handler.behaviour = "drop-after-data"
    cut = _run(casebook, "send", "1")
    assert cut.returncode == 1 and cut.stderr.count("\n") == 1
    assert "may have reached" in cut.stderr and "--send-again" in cut.stderr
    smtp_server.handler.behaviour = ""
    refused = _run(casebook, "send", "1")
    assert refused.returncode == 1 and "--send-again" in refused.stderr
    assert len(smtp_server.received) == 1
    confirmed = _run(casebook, "send", "1", "--send-again")
    assert confirmed.returncode == 0, confirmed.stderr
    assert len(smtp_server.received) == 2
    # With --email, a failure after issuing says how to send it later.
    smtp_server.handler.refuse.add(PARENT_EMAIL)
    failed = _run(
        casebook,
        "letter",
        "SM-2026-0001",
        "--kind",
        "removal",
        "--to",
        "zoë łukasiewicz",
        "--email",
        "--confirm-post-details",
    )
    # One sentence for the failure; notes about the letter's wording may precede it.
    refusals = [line for line in failed.stderr.splitlines() if "casebook: note:" not in line]
    assert failed.returncode == 1 and len(refusals) == 1
    assert "refused the address" in failed.stderr and "casebook send" in failed.stderr


def test_wrong_mail_password_from_the_environment(casebook: Path, smtp_server: MailServer) -> None:
    done = _run(
        casebook, "mail", "set", "--host", "localhost", "--port", str(smtp_server.port),
        "--starttls", "--user", USER, CASEBOOK_MAIL_PASSWORD="wrong",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tested = _run(casebook, "mail", "test", "--to", "someone@school.example")
    assert tested.returncode == 1 and "refused the user name or password" in tested.stderr


def test_remind_from_a_scheduled_task(
    casebook: Path, smtp_server: MailServer, tmp_path: Path
) -> None:
    _set_up_mail(casebook, smtp_server)
    secret = tmp_path / "reminders.pw"
    secret.write_text(ROBOT_PASSWORD + "\n")
    secret.chmod(0o644)
    robot = {"CASEBOOK_USER": "", "CASEBOOK_PASSWORD": ""}
    loose = _run(casebook, "remind", "--user", ROBOT, "--password-file", str(secret), **robot)
    assert loose.returncode == 1 and "chmod 600" in loose.stderr
    secret.chmod(0o600)
    # Cases were opened just now: nothing is overdue yet, but the first actions are due today.
    dry = _run(
        casebook, "remind", "--dry-run", "--user", ROBOT, "--password-file", str(secret), **robot
    )
    assert dry.returncode == 0, dry.stderr
    assert "Dry run: nothing was sent." in dry.stdout
    assert "SM-2026-0002" not in dry.stdout  # a safeguarding case, not for this account's eyes
    assert "Zoë" not in dry.stdout
    assert smtp_server.received == []
    done = _run(casebook, "remind", "--user", ROBOT, "--password-file", str(secret), **robot)
    assert done.returncode == 0, done.stderr
    assert "Sent today's reminders to head@school.example." in done.stdout
    heads = [r for r in smtp_server.received if r.recipients == ["head@school.example"]]
    assert heads and "SM-2026-0002" in heads[0].parsed().get_content()
    twice = _run(casebook, "remind", "--user", ROBOT, "--password-file", str(secret), **robot)
    assert twice.returncode == 0 and "already sent" in twice.stdout
    assert len(smtp_server.received) == len(done.stdout.splitlines())


def test_remind_runs_while_the_window_has_the_casebook_open(
    casebook: Path, smtp_server: MailServer, tmp_path: Path
) -> None:
    from app.config import DataDirLock
    from tests.conftest import open_signed_in

    _set_up_mail(casebook, smtp_server)
    secret = tmp_path / "reminders.pw"
    secret.write_text(ROBOT_PASSWORD)
    secret.chmod(0o600)
    with DataDirLock(casebook / "casebook.lock"):
        window = open_signed_in(casebook, HEAD, HEAD_PASSWORD)
        try:
            done = _run(casebook, "remind", "--user", ROBOT, "--password-file", str(secret))
        finally:
            window.close()
    assert done.returncode == 0, done.stderr
    assert "Sent today's reminders" in done.stdout
