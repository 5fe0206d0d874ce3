"""Where the data lives, who is working, logging, and the one-instance lock."""

from __future__ import annotations

import errno
import logging
import logging.handlers
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from app.domain.errors import (
    DataDirectoryError,
    DataDirectoryInUseError,
    ReadOnlyDataError,
    StorageFullError,
    ValidationError,
)
from app.files import write_file

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
    # Imported here, as getpass is below: a command given its data folder (as a school's
    # scripts give it) uses neither, and importing them took about 1.5 ms of each start.
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_data_dir(cli_value: str | None) -> Path:
    """``--data-dir`` wins, then ``CASEBOOK_DATA_DIR``, then a casebook this PC shares
    between Windows accounts (under ProgramData), then the per-user default."""
    if cli_value:
        return Path(cli_value).expanduser().absolute()
    env_value = os.environ.get(ENV_DATA_DIR)
    if env_value:
        return Path(env_value).expanduser().absolute()
    shared = shared_data_dir()
    if shared is not None and _is_shared_casebook(shared):
        return shared
    return default_data_dir()


# ----- one casebook for several Windows accounts on one PC -------------------------------

SHARED_MARKER = "shared-with.txt"
# Windows' own accounts, by SID so the names' language does not matter.
_SYSTEM_SID = "*S-1-5-18"
_ADMINISTRATORS_SID = "*S-1-5-32-544"
_ACCOUNT = re.compile(r'[^"/\\\[\]:;|=,+*?<>()@%]{1,104}(\\[^"/\\\[\]:;|=,+*?<>()@%]{1,104})?')


def shared_data_dir() -> Path | None:
    """``%ProgramData%\\ConductCasebook``: where a casebook shared by accounts lives."""
    program_data = os.environ.get("PROGRAMDATA", "").strip()
    return Path(program_data) / APP_NAME if program_data else None


def _is_shared_casebook(folder: Path) -> bool:
    try:
        return (folder / SHARED_MARKER).is_file()
    except PermissionError:
        raise DataDirectoryError(
            f"This PC's casebook is kept in {folder}, and it is not shared with your Windows "
            "account. Ask the head teacher to add your account (see the README)."
        ) from None
    except OSError:
        return False


def check_account_names(accounts: list[str]) -> list[str]:
    """Windows account names (``NAME`` or ``DOMAIN\\NAME``), each once, or ValidationError."""
    cleaned: list[str] = []
    for account in accounts:
        name = account.strip()
        if not _ACCOUNT.fullmatch(name):
            raise ValidationError(
                f"“{account}” is not a Windows account name; give it as NAME or "
                "PC-OR-DOMAIN\\NAME, as shown by the command whoami."
            )
        if name.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(name)
    if not cleaned:
        raise ValidationError("Name at least one Windows account to share the casebook with.")
    return cleaned


def icacls_commands(folder: Path, accounts: list[str]) -> list[list[str]]:
    """The two icacls commands that give ``folder`` to the named accounts only.

    First grant (so the person running it never locks themselves out half-way), then cut
    the permissions ProgramData passes down (every user may read there). SYSTEM and the
    PC's administrators keep full control: backups and IT support need it.
    """
    grants = [f"{_SYSTEM_SID}:(OI)(CI)F", f"{_ADMINISTRATORS_SID}:(OI)(CI)F"]
    grants += [f"{account}:(OI)(CI)M" for account in check_account_names(accounts)]
    return [
        ["icacls", str(folder), "/grant:r", *grants],
        ["icacls", str(folder), "/inheritance:r"],
    ]


def set_up_shared_folder(accounts: list[str], folder: Path | None = None) -> Path:
    """Make the ProgramData folder, give it to ``accounts`` alone, and mark it shared.

    From then on every one of those accounts opens this casebook without --data-dir.
    Windows only: the limit is the folder's Windows permissions (icacls).
    """
    if sys.platform != "win32":
        raise DataDirectoryError(
            "Sharing one casebook between the Windows accounts of a PC is set up on Windows; "
            "elsewhere, use --data-dir with a folder the users share."
        )
    target = folder or shared_data_dir()
    if target is None:
        raise DataDirectoryError("Windows did not say where ProgramData is (PROGRAMDATA).")
    # The person setting it up keeps access: their own account is always among the names.
    me = os.environ.get("USERNAME", "")
    domain = os.environ.get("USERDOMAIN", "")
    names = check_account_names([*accounts, *([f"{domain}\\{me}" if domain else me] if me else [])])
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataDirectoryError(
            f"The folder {target} cannot be made ({error.strerror})."
        ) from None
    for command in icacls_commands(target, names):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            said = (done.stdout + done.stderr).strip().splitlines()
            raise DataDirectoryError(
                f"Windows refused to limit who can open {target} "
                f"({said[0] if said else 'icacls failed'}); check the account names."
            )
    note = "This casebook is shared with these Windows accounts:\n" + "\n".join(names) + "\n"
    write_file(target / SHARED_MARKER, note.encode("utf-8"))
    return target


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
    import getpass

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
