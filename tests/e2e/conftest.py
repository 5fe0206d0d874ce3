"""Demonstration casebooks for the command-line tests, made once and copied."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from app.domain.dates import london_today, utc_now


class CliDemos:
    """Casebooks filled by the ``demo`` command, once per test worker for each first user,
    and copied (the whole data folder) into each test that starts from one.

    ``casebook demo`` made the same thirteen cases, letters and exhibits for dozens of
    tests; each now gets a copy of one that the command made, through its own entry point,
    earlier in the run (on the same London day: the demonstration's dates count from it).
    tests/e2e/test_cli.py still makes its casebook with a real ``python -m app demo``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: dict[tuple[str, str, str], Path] = {}

    def copy_to(
        self,
        data_dir: Path,
        made_by: Callable[[Path], subprocess.CompletedProcess[str]],
        *,
        user: str,
        password: str,
    ) -> Path:
        """``data_dir`` as ``made_by(folder)`` leaves a new folder: it runs ``demo`` there
        as ``user`` with ``password`` (who become the casebook's first user)."""
        made = (user, password, london_today(utc_now()).isoformat())
        if made not in self._made:
            original = self.folder / f"demo-{len(self._made)}"
            done = made_by(original)
            assert done.returncode == 0, done.stderr
            self._made[made] = original
        shutil.copytree(self._made[made], data_dir, dirs_exist_ok=True)
        return data_dir


@pytest.fixture(scope="session")
def cli_demos(tmp_path_factory: pytest.TempPathFactory) -> CliDemos:
    return CliDemos(tmp_path_factory.mktemp("cli-demos"))
