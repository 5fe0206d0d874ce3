"""One copy of the app per data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import DataDirLock, DataPaths
from app.domain.errors import DataDirectoryInUseError


def test_a_second_lock_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    path = DataPaths(tmp_path).lock
    with DataDirLock(path):
        with pytest.raises(DataDirectoryInUseError) as caught:
            DataDirLock(path).acquire()
        assert str(tmp_path) in caught.value.message
        assert "already open" in caught.value.message
        assert caught.value.exit_code == 3


def test_a_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    path = DataPaths(tmp_path).lock
    first = DataDirLock(path)
    first.acquire()
    first.release()
    second = DataDirLock(path)
    second.acquire()
    with pytest.raises(DataDirectoryInUseError):
        DataDirLock(path).acquire()
    second.release()
    with DataDirLock(path):
        pass


def test_releasing_twice_or_unheld_is_harmless(tmp_path: Path) -> None:
    lock = DataDirLock(DataPaths(tmp_path).lock)
    lock.release()
    lock.acquire()
    lock.release()
    lock.release()


def test_locks_on_different_folders_are_independent(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with DataDirLock(DataPaths(tmp_path / "a").lock), DataDirLock(DataPaths(tmp_path / "b").lock):
        pass
