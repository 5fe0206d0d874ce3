"""Moving a casebook to a new PC, as the README tells IT support to: a backup on the old
PC, then a restore on the new PC before anything else is done there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e.cli_runner import run_in_process


def casebook(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``casebook --data-dir DATA ARGS`` through the command's own entry point, with the
    environment a process would have (tests/e2e/cli_runner.py)."""
    env = {**os.environ, "CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": "demo"}
    env.pop("CASEBOOK_DATA_DIR", None)
    return run_in_process(["--data-dir", str(data), *args], env)


def test_a_backup_restored_on_an_empty_pc_brings_everything_across(tmp_path: Path) -> None:
    old_pc, new_pc, usb = tmp_path / "old", tmp_path / "new", tmp_path / "usb stick"
    assert casebook(old_pc, "demo").returncode == 0
    before = casebook(old_pc, "cases", "--json").stdout
    backup = casebook(old_pc, "backup", "--to", str(usb))
    assert backup.returncode == 0, backup.stderr
    [archive] = usb.glob("casebook-backup-*.zip")

    restored = casebook(new_pc, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert casebook(new_pc, "cases", "--json").stdout == before
    checked = casebook(new_pc, "evidence", "verify")
    assert checked.returncode == 0, checked.stderr
    assert casebook(new_pc, "audit", "verify").returncode == 0
