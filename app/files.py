"""Writing a file safely on every system the office may use, Windows first.

One way to put a file in place: write it under a temporary name in the same folder,
fsync it, then rename it over the target, so a power cut leaves the old file or the new
one and never half of either. On Windows that rename fails for a moment whenever another
program has the target open (antivirus scanning the new file, the search indexer,
OneDrive syncing the folder); ``replace`` waits and tries again for up to about two
seconds before giving up, on every system, so the same code runs in the tests here.

File names written for the user (exports, letters) avoid what Windows refuses: the
device names (``CON``, ``NUL``, ``COM1``...), a trailing dot or space, and ``<>:"/\\|?*``.
Paths longer than 260 characters are given the ``\\\\?\\`` prefix on Windows.
"""

from __future__ import annotations

import errno
import ntpath
import os
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from app.domain.errors import ValidationError

# Waits between tries of a rename Windows reports as in use: about 1.9 s in all. Scanners
# and sync clients hold a new file for tens to hundreds of milliseconds.
RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.25, 0.3, 0.3, 0.3)

# Windows refuses these characters in a name; control characters too.
_REFUSED = '<>:"/\\|?*'
_READABLE_SWAPS = {"/": "-", "\\": "-", ":": "-", '"': "'"}
# Device names, whatever follows the first dot (``con.pdf`` is the console on Windows 10).
RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in "123456789¹²³"]
)
# Room left for the folder: NTFS allows 255 characters in one name.
MAX_NAME = 150
# The longest path Windows opens without the extended prefix (MAX_PATH minus the NUL and,
# for a folder, room for an 8.3 name inside it).
WINDOWS_PLAIN_PATH_LIMIT = 247


# ----- renaming with a retry -----------------------------------------------------------


@dataclass
class _SimulatedInUse:
    remaining: int = 0
    refused: int = 0
    matching: str | None = None


# A hook for tests only: Linux never reports a file in use, so a test sets how many of the
# next renames fail as Windows would. The app itself never sets it.
_simulated: list[_SimulatedInUse] = []
_simulated_lock = threading.Lock()


@contextmanager
def simulated_file_in_use(times: int, matching: str | None = None) -> Iterator[_SimulatedInUse]:
    """Make the next ``times`` renames (onto a path containing ``matching``, when given)
    fail as Windows fails one whose file a scanner holds open."""
    state = _SimulatedInUse(remaining=times, matching=matching)
    with _simulated_lock:
        _simulated.append(state)
    try:
        yield state
    finally:
        with _simulated_lock:
            _simulated.remove(state)


def _refuse_if_simulated(target: str) -> None:
    with _simulated_lock:
        state = next(
            (
                each
                for each in _simulated
                if each.remaining > 0 and (each.matching is None or each.matching in target)
            ),
            None,
        )
        if state is None:
            return
        state.remaining -= 1
        state.refused += 1
    # What Windows raises for ERROR_SHARING_VIOLATION (winerror 32).
    raise PermissionError(
        errno.EACCES,
        "The process cannot access the file because it is being used by another process",
        target,
    )


def replace_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """``os.replace``, tried again for a moment while the target is reported in use."""
    source_text, target_text = long_path(source), long_path(target)
    for delay in (*RETRY_DELAYS, None):
        try:
            _refuse_if_simulated(target_text)
            os.replace(source_text, target_text)
            return
        except PermissionError:
            if delay is None:
                raise
            time.sleep(delay)


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make a rename inside ``folder`` durable; Windows has no such call (and needs none)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(target: str | os.PathLike[str], data: bytes | Iterable[bytes]) -> None:
    """Put ``data`` at ``target`` whole or not at all: temporary name, fsync, replace."""
    path = Path(target)
    temp = path.with_name(f".{path.name[:60]}.{secrets.token_hex(6)}.part")
    chunks = [data] if isinstance(data, bytes | bytearray | memoryview) else data
    try:
        with open(long_path(temp), "xb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        replace_file(temp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(long_path(temp))
        raise
    fsync_folder(long_path(path.parent))


def save_user_file(target: str | os.PathLike[str], data: bytes | Iterable[bytes]) -> None:
    """``write_file`` for a file the user named: a name Windows refuses is refused first."""
    path = Path(target)
    problem = file_name_problem(path.name)
    if problem is not None:
        raise ValidationError(problem, field="file")
    write_file(path, data)


# ----- names ---------------------------------------------------------------------------


def _is_reserved(name: str) -> bool:
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    return stem in RESERVED_NAMES


def file_name_problem(name: str) -> str | None:
    """One sentence saying why Windows would refuse ``name``, or None when it is fine."""
    if not name.strip(" ."):
        return "A file needs a name; choose one and try again."
    suggestion = safe_file_name(name)
    if _is_reserved(name):
        reason = "is a name Windows keeps for a device"
    elif any(ch in _REFUSED or ord(ch) < 32 for ch in name):
        reason = 'has a character Windows does not allow in a file name (< > : " / \\ | ? *)'
    elif name != name.rstrip(" ."):
        reason = "ends with a dot or a space, which Windows drops"
    else:
        return None
    return f"“{name}” {reason}; choose another name, such as “{suggestion}”."


def safe_file_name(name: str, fallback: str = "document") -> str:
    """``name`` made safe for a file on Windows and everywhere else, keeping what it says."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(
        _READABLE_SWAPS.get(ch, "_") if ch in _REFUSED or ord(ch) < 32 else ch for ch in text
    )
    text = " ".join(text.split())  # tabs and runs of spaces
    stem, dot, suffix = text.rpartition(".")
    if not dot or not stem or len(suffix) > 10 or " " in suffix:
        stem, suffix = text, ""
    if len(stem) > MAX_NAME:
        stem = stem[:MAX_NAME]
    stem = stem.strip(" .")
    suffix = suffix.strip(" .")
    if not stem:
        stem = fallback
    if _is_reserved(stem):
        stem = f"_{stem}"
    return f"{stem}.{suffix}" if suffix else stem


# ----- long paths ----------------------------------------------------------------------


def windows_extended_path(text: str) -> str:
    """A Windows path with the ``\\\\?\\`` prefix when it is too long to open without it."""
    if text.startswith("\\\\?\\") or len(text) <= WINDOWS_PLAIN_PATH_LIMIT:
        return text
    absolute = ntpath.normpath(ntpath.abspath(text)) if ntpath.isabs(text) else text
    if not ntpath.isabs(absolute):
        return text  # a relative path cannot take the prefix; Windows resolves it first
    if absolute.startswith("\\\\"):
        return "\\\\?\\UNC\\" + absolute[2:]
    return "\\\\?\\" + absolute


def long_path(path: str | os.PathLike[str]) -> str:
    """``path`` as a string the system opens whatever its length."""
    text = os.fspath(path)
    if os.name != "nt":
        return text
    if not ntpath.isabs(text):
        text = os.path.abspath(text)
    return windows_extended_path(text)


def _existing(path: Path) -> Path:
    """The nearest folder that exists at or above ``path`` (a backup folder may be new)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def same_disk(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    """Whether two paths live on the same disk or volume (so one failure loses both).

    Compares the device of the nearest existing folder of each; on Windows ``st_dev`` is
    the volume's serial number. A path that cannot be examined counts as not the same.
    """
    try:
        return _existing(Path(first)).stat().st_dev == _existing(Path(second)).stat().st_dev
    except OSError:
        return False
