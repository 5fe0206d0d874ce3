"""Files the app writes are private to the person's account, and a killed backup leaves nothing.

On POSIX every file is created 0600 and every folder 0700, whatever the umask of the
session that started the app. (On Windows the per-user application-data folder's ACL
already grants only that user, SYSTEM and Administrators; see docs/backup-and-restore.md.)
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_cli import cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_backups_and_exports_are_private(tmp_path: Path) -> None:
    data = tmp_path / "casebook"
    old = os.umask(0o022)  # what a desktop session usually has
    try:
        assert cli("init", "--user", "Mrs A. Head", data_dir=data).returncode == 0
        added = cli(
            "case", "add", "--title", "Remarks", "--category", "abusive",
            "--posted-by", "Mr Parent", data_dir=data,
        )  # fmt: skip
        reference = added.stdout.strip()
        (tmp_path / "out").mkdir()
        exported = cli(
            "export", reference, "--out", str(tmp_path / "out" / "bundle.pdf"), data_dir=data
        )
        assert exported.returncode == 0, exported.stderr
        backup = cli("backup", "--to", str(tmp_path / "backups"), data_dir=data)
        assert backup.returncode == 0, backup.stderr
    finally:
        os.umask(old)
    assert _mode(data) == 0o700
    loose = [
        f"{path.relative_to(tmp_path)} {oct(_mode(path))}"
        for path in [
            *data.rglob("*"),
            tmp_path / "out" / "bundle.pdf",
            Path(backup.stdout.strip()),
        ]
        if _mode(path) & 0o077
    ]
    assert loose == []


def test_an_existing_data_folder_is_made_private_when_it_is_opened(tmp_path: Path) -> None:
    data = tmp_path / "casebook"
    assert cli("init", "--user", "Mrs A. Head", data_dir=data).returncode == 0
    data.chmod(0o755)
    (data / "casebook.keys").chmod(0o644)
    assert cli("cases", data_dir=data).returncode == 0
    assert _mode(data) == 0o700
    assert _mode(data / "casebook.keys") == 0o600


def test_a_killed_backup_leaves_nothing_after_the_next_one(tmp_path: Path) -> None:
    data = tmp_path / "casebook"
    backups = tmp_path / "backups"
    assert cli("init", "--user", "Mrs A. Head", data_dir=data).returncode == 0
    environment = {
        **{k: v for k, v in os.environ.items() if k != "CASEBOOK_DATA_DIR"},
        "CASEBOOK_USER": "Mrs A. Head",
        "CASEBOOK_PASSWORD": "tide-marble-orchard-42",
    }
    # Stopped part-way, as a power cut would: SIGKILL once the partial file appears.
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data), "backup", "--to", str(backups)],
        env={**environment, "CASEBOOK_FAULT_KILL_BEFORE": "backup:1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process.wait(timeout=60)
    assert process.returncode != 0
    left = sorted(p.name for p in backups.iterdir())
    assert any(name.endswith(".zip.partial") for name in left), left
    time.sleep(0.01)
    made = cli("backup", "--to", str(backups), data_dir=data)
    assert made.returncode == 0, made.stderr
    names = sorted(p.name for p in backups.iterdir())
    assert names == [Path(made.stdout.strip()).name], names
    assert not [p for p in data.iterdir() if p.name.startswith((".backup", ".restore"))]


def test_leftovers_of_a_backup_killed_by_an_older_version_are_removed(tmp_path: Path) -> None:
    data = tmp_path / "casebook"
    backups = tmp_path / "backups"
    backups.mkdir()
    assert cli("init", "--user", "Mrs A. Head", data_dir=data).returncode == 0
    left = [
        backups / "casebook-backup-20261201-090000.zip.partial",
        backups / ".casebook-backup-20261201-090000-database.tmp",
        backups / ".casebook-backup-20261201-090000-database.tmp-journal",
    ]
    two_hours_ago = time.time() - 7200
    for path in left:
        path.write_bytes(b"half a backup")
        os.utime(path, (two_hours_ago, two_hours_ago))
    made = cli("backup", "--to", str(backups), data_dir=data)
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in backups.iterdir()) == [Path(made.stdout.strip()).name]
