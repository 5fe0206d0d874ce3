"""A power cut before every rename of a restore and of the encryption: nothing is lost.

The command runs in a real subprocess and is killed with SIGKILL just before the n-th
rename (the fault points in ``app.services.swap``), for every n until the command gets
through. After each kill the next start must open the casebook with all its data: the
restored backup, or the original untouched. Never an empty casebook, never "has no users
yet", never a lost key file, never plaintext left behind.

Every kill point runs in the slow suite; one for each operation runs in the normal one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.domain.categories import Category
from app.domain.errors import UnencryptedCasebookError
from app.domain.records import CaseDraft, CaseFilter, CaseSort
from app.security.keyring import TEST_COST_SETTING
from app.services.casebook import open_casebook
from app.services.swap import JOURNAL, KILL_BEFORE_ENV, STEP_LOG_ENV
from tests.backup.conftest import fill
from tests.conftest import Clock
from tests.security.test_encrypt_plain_casebook import (
    OLD_PASSWORD,
    SECRET,
    every_byte,
    make_plain_casebook,
)

PASSWORD = "tide-marble-orchard-42"
RESTORE_STEPS_AT_LEAST = 8
ENCRYPT_STEPS_AT_LEAST = 8


def _run(data: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # The test suite's cheap key cost stays: the casebooks here were made with it.
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CASEBOOK_") or k == TEST_COST_SETTING
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def _titles(services: object) -> set[str]:
    rows = services.cases.list_cases(  # type: ignore[attr-defined]
        CaseFilter(), CaseSort("reference", False), 0, 100
    )
    return {row.title for row in rows}


@dataclass
class Restoring:
    template: Path
    archive: Path
    work: Path

    def copy(self, name: str) -> Path:
        target = self.work / name
        shutil.copytree(self.template, target, symlinks=True)
        return target


@pytest.fixture
def restoring(tmp_path: Path) -> Iterator[Restoring]:
    template = tmp_path / "template"
    services = open_casebook(template, actor="head", clock=Clock())
    try:
        services.users.create_first_user("head", PASSWORD)
        fill(services)
        archive = services.backups.backup(tmp_path / "backups").path
        services.cases.open_case(
            CaseDraft(title="After the backup", categories=frozenset({Category.ABUSIVE}))
        )
    finally:
        services.close()
    yield Restoring(template, archive, tmp_path / "runs")


HEAD = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": PASSWORD}
BACKED_UP = {"Comments about Year 3", "Comments about Year 4", "Comments about Year 5"}


def _steps(data: Path, log: Path, *args: str, env: dict[str, str]) -> list[str]:
    """What each rename point of a whole run is: "out:blobs", "in:casebook.keys", …"""
    done = _run(data, {**env, STEP_LOG_ENV: str(log)}, *args)
    assert done.returncode == 0, done.stderr
    return [line.split(" ", 1)[1] for line in log.read_text(encoding="ascii").splitlines()]


def _check_restore(data: Path) -> str:
    """Open after a kill: the restored backup or the original, whole; which one it was."""
    services = open_casebook(data)
    try:
        services.users.sign_in("head", PASSWORD)
        titles = _titles(services)
        report = services.evidence.verify()
        assert report.ok, report
    finally:
        services.close()
    assert not (data / JOURNAL).exists()
    assert not [p for p in data.iterdir() if p.name.startswith(".restore")]
    if titles == BACKED_UP:
        return "restored"
    assert titles == BACKED_UP | {"After the backup"}, titles
    return "original"


def _kill_restore_at(restoring: Restoring, step: int) -> str:
    data = restoring.copy(f"restore-{step}")
    killed = _run(
        data, {**HEAD, KILL_BEFORE_ENV: f"restore:{step}"}, "restore", str(restoring.archive)
    )
    assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
    return _check_restore(data)


def test_restore_killed_between_moving_the_database_and_the_key_file_is_finished(
    restoring: Restoring, tmp_path: Path
) -> None:
    """The database moved aside but not the key file: once "has no users yet"."""
    steps = _steps(
        restoring.copy("count"), tmp_path / "restore-steps", "restore", str(restoring.archive),
        env=HEAD,
    )  # fmt: skip
    step = steps.index("in:casebook.keys") + 1
    assert _kill_restore_at(restoring, step) == "restored"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_restore_killed_before_every_rename_opens_whole(
    restoring: Restoring, tmp_path: Path
) -> None:
    steps = _steps(
        restoring.copy("count"), tmp_path / "restore-steps", "restore", str(restoring.archive),
        env=HEAD,
    )  # fmt: skip
    assert len(steps) >= RESTORE_STEPS_AT_LEAST, steps
    outcomes = [(step, _kill_restore_at(restoring, n)) for n, step in enumerate(steps, start=1)]
    sys.stderr.write(f"restore kill points: {len(steps)} {outcomes}\n")
    assert outcomes[0] == ("journal", "original")  # killed before its journal was written
    assert all(outcome == "restored" for _, outcome in outcomes[1:])


ENCRYPT_HEAD = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": OLD_PASSWORD}


def _check_encrypt(data: Path) -> str:
    """Start after a kill: the plain casebook untouched, or the encrypted one finished."""
    try:
        services = open_casebook(data)
    except UnencryptedCasebookError:
        outcome = "original"
        done = _run(data, ENCRYPT_HEAD, "encrypt")
        assert done.returncode == 0, done.stderr
        services = open_casebook(data)
    else:
        outcome = "encrypted"
    try:
        services.users.sign_in("head", OLD_PASSWORD)
        case = services.cases.find_case("SM-2026-0001")
        assert case.title == "Remarks about Jemima Puddleduck"
        exhibit = services.evidence.list_evidence(case.id)[0]
        assert services.evidence.content(exhibit.id) == SECRET
    finally:
        services.close()
    assert b"Jemima" not in every_byte(data), "plaintext left behind"
    assert not (data / JOURNAL).exists()
    assert not [p for p in data.iterdir() if p.name.endswith(".encrypting")]
    return outcome


def _kill_encrypt_at(template: Path, work: Path, step: int) -> str:
    data = work / f"encrypt-{step}"
    shutil.copytree(template, data)
    killed = _run(data, {**ENCRYPT_HEAD, KILL_BEFORE_ENV: f"encrypt:{step}"}, "encrypt")
    assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
    return _check_encrypt(data)


@pytest.fixture
def plain_template(tmp_path: Path) -> Path:
    template = tmp_path / "plain"
    make_plain_casebook(template)
    return template


def test_encryption_killed_while_moving_the_plain_files_aside_is_finished_at_the_next_start(
    plain_template: Path, tmp_path: Path
) -> None:
    # Killed with the plain blobs moved aside and the encrypted ones not yet in: the case
    # that used to leave "Directory not empty" at every later start, plaintext on disk.
    data = tmp_path / "encrypt-count"
    shutil.copytree(plain_template, data)
    steps = _steps(data, tmp_path / "encrypt-steps", "encrypt", env=ENCRYPT_HEAD)
    step = steps.index("in:blobs") + 1
    assert _kill_encrypt_at(plain_template, tmp_path, step) == "encrypted"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_encryption_killed_before_every_rename_opens_whole(
    plain_template: Path, tmp_path: Path
) -> None:
    data = tmp_path / "encrypt-count"
    shutil.copytree(plain_template, data)
    steps = _steps(data, tmp_path / "encrypt-steps", "encrypt", env=ENCRYPT_HEAD)
    assert len(steps) >= ENCRYPT_STEPS_AT_LEAST, steps
    outcomes = [
        (step, _kill_encrypt_at(plain_template, tmp_path, n)) for n, step in enumerate(steps, 1)
    ]
    sys.stderr.write(f"encrypt kill points: {len(steps)} {outcomes}\n")
    journal = steps.index("journal")
    # Before the journal the plain casebook is untouched; from it on, the swap is finished.
    assert all(outcome == "original" for _, outcome in outcomes[: journal + 1])
    assert all(outcome == "encrypted" for _, outcome in outcomes[journal + 1 :])


def test_an_encryption_cut_short_under_the_previous_version_is_finished(
    plain_template: Path, tmp_path: Path
) -> None:
    """Its journal said only "swap"; it was cut with the plain blobs moved aside and an
    empty blobs folder made by the next start, which then failed with "Directory not
    empty" at every start, the plaintext still on disk."""
    data = tmp_path / "old-version"
    shutil.copytree(plain_template, data)
    killed = _run(data, {**ENCRYPT_HEAD, KILL_BEFORE_ENV: "encrypt:3"}, "encrypt")
    assert killed.returncode == -signal.SIGKILL, killed.stderr  # before its journal
    (data / ".casebook.journal.new").unlink()
    (data / "encryption-in-progress").write_text("swap\n", encoding="ascii")
    aside = data / "plain-before-encryption"
    aside.mkdir()
    os.replace(data / "casebook.sqlite3", aside / "casebook.sqlite3")
    os.replace(data / "casebook.sqlite3.encrypting", data / "casebook.sqlite3")
    os.replace(data / "blobs", aside / "blobs")
    (data / "blobs").mkdir()
    assert _check_encrypt(data) == "encrypted"
    assert not (data / "encryption-in-progress").exists()
