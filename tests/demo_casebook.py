"""The demonstration casebook the window tests start from, made once per test worker.

Filling a casebook with the demonstration cases (people, letters, exhibits, a commit and
an fsync for each) took about a second of CPU, and a hundred window tests each did it.
Each worker now makes it once (per London day: the demonstration's due dates count from
the day it was made) and every test gets a copy of the whole data folder: the same
encrypted database, key file and sealed files, opened with the same data key.

A new casebook's process holds the safeguarding key from the moment it is made (no head
teacher has signed up to seal it to yet), so the copy's process is given it as well; a
copy opened with the data key alone would find its safeguarding cases unreadable.
tests/ui/test_demo_casebook_copy.py checks a copy against a casebook filled afresh.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from app.domain.dates import london_today, utc_now
from app.security.crypto import DataKey, SafeguardingKey
from app.services.casebook import Services, open_casebook
from app.services.demo import create_demo


@dataclass(frozen=True)
class _Made:
    day: date
    folder: Path
    key: DataKey
    head: SafeguardingKey


class FilledCasebook:
    """Copies of one casebook filled by ``fill`` (at the moment of ``options``' clock, if
    any), made in ``folder`` on first use: the way a test module gets the same filled
    casebook for each test without filling it again."""

    def __init__(self, folder: Path, fill: Callable[[Services], None], **options: Any) -> None:
        self.folder = folder
        self.fill = fill
        self.options = options
        self._made: _Made | None = None

    def copy_to(self, data_dir: Path, **options: Any) -> Services:
        """A copy of the filled casebook in ``data_dir``, open as when just filled."""
        if self._made is None:
            self._made = _make(self.folder / "filled", self.fill, self.options, date.min)
        return _open_copy(self._made, data_dir, options)


def _make(
    folder: Path, fill: Callable[[Services], None], options: dict[str, Any], day: date
) -> _Made:
    services = open_casebook(folder, **options)
    try:
        fill(services)
        key, head = services.keys.holder.key, services.keys.holder.head
    finally:
        services.close()
    assert key is not None and head is not None
    return _Made(day, folder, key, head)


def _open_copy(made: _Made, data_dir: Path, options: dict[str, Any]) -> Services:
    shutil.copytree(made.folder, data_dir)
    services = open_casebook(data_dir, key=made.key, **options)
    holder = services.keys.holder
    assert holder.head_public == made.head.public()
    holder.head = made.head
    return services


class DemoCasebooks:
    """Copies of one demonstration casebook, made in ``folder`` on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: _Made | None = None

    def _original(self, actor: str) -> _Made:
        today = london_today(utc_now())
        if self._made is None or self._made.day != today:
            folder = self.folder / f"demo-{today.isoformat()}"
            self._made = _make(folder, create_demo, {"actor": actor}, today)
        return self._made

    def copy_to(self, data_dir: Path, **options: Any) -> Services:
        """A copy of the demonstration casebook in ``data_dir``, open as when just filled."""
        made = self._original(options.get("actor") or "Mrs Test")
        return _open_copy(made, data_dir, options)
