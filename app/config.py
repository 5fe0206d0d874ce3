"""Where the data lives, who is working, logging, and the one-instance lock."""

from __future__ import annotations

import errno
import getpass
import logging
import logging.handlers
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import platformdirs

from app.domain.errors import (
    DataDirectoryError,
    DataDirectoryInUseError,
    ReadOnlyDataError,
    StorageFullError,
)

APP_NAME = "ConductCasebook"
ENV_DATA_DIR = "CASEBOOK_DATA_DIR"
ENV_USER = "CASEBOOK_USER"
ENV_DATABASE_URL = "CASEBOOK_DATABASE_URL"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataPaths:
    """Every file and folder the app keeps inside its data directory."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "casebook.sqlite3"

    @property
    def keyring(self) -> Path:
        return self.root / "casebook.keys"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def lock(self) -> Path:
        return self.root / "casebook.lock"


def default_data_dir() -> Path:
    """The per-user data folder for this operating system."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_data_dir(cli_value: str | None) -> Path:
    """``--data-dir`` wins, then ``CASEBOOK_DATA_DIR``, then the platform default."""
    if cli_value:
        return Path(cli_value).expanduser().absolute()
    env_value = os.environ.get(ENV_DATA_DIR)
    if env_value:
        return Path(env_value).expanduser().absolute()
    return default_data_dir()


def resolve_database_url(cli_value: str | None) -> str | None:
    """``--database-url`` wins, then ``CASEBOOK_DATABASE_URL``; None means the local file."""
    value = cli_value or os.environ.get(ENV_DATABASE_URL, "")
    return value.strip() or None


def prepare_data_dir(root: Path) -> DataPaths:
    """Create the data directory and its folders, explaining clearly when that fails."""
    paths = DataPaths(root)
    try:
        for folder in (paths.root, paths.blobs, paths.backups, paths.logs):
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataDirectoryError(
            f"The data folder {root} cannot be created or written ({error.strerror})."
        ) from error
    # A real write, not os.access: an administrator's account passes os.access on a
    # read-only disk or share, and only finds out halfway through saving.
    probe = paths.root / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise StorageFullError(
                f"The disk holding the data folder {root} is full; free some space on it "
                "and try again."
            ) from error
        raise ReadOnlyDataError(
            f"The data folder {root} cannot be written (it is read-only); nothing was "
            "changed. Ask for write access to it, or choose another data folder."
        ) from error
    return paths


def current_user() -> str:
    """The name recorded against changes until sign-in exists: CASEBOOK_USER or the login."""
    name = os.environ.get(ENV_USER, "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file; when it cannot be written (a full disk) the entry is dropped.

    The standard handler prints "--- Logging error ---" and a traceback on the console
    instead, in the middle of the one clear sentence the user is being shown.
    """

    def handleError(self, record: logging.LogRecord) -> None:
        return


def setup_logging(paths: DataPaths, *, verbose: bool = False) -> None:
    """Write details to a rotating log file in the data folder (never shown as tracebacks)."""
    root_logger = logging.getLogger()
    target = str(paths.logs / "casebook.log")
    for handler in root_logger.handlers:
        if getattr(handler, "baseFilename", None) == target:
            return
    handler = _LogFile(target, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG if verbose else logging.INFO)


class DataDirLock:
    """An operating-system lock on the data folder so a second copy of the app is refused.

    The lock vanishes with the process, so a crash or power cut never leaves it stuck.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        handle = open(self.path, "a+b")  # noqa: SIM115 - held open for the life of the lock
        try:
            _lock_file(handle)
        except OSError:
            handle.close()
            raise DataDirectoryInUseError(
                f"Conduct Casebook is already open on the data folder {self.path.parent}. "
                "Switch to that window, or close it first."
            ) from None
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            _unlock_file(self._file)
            self._file.close()
            self._file = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


if sys.platform == "win32":
    import msvcrt

    def _lock_file(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock_file(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_file(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
