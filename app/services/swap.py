"""Swapping a checked set of files into the data folder so that a power cut cannot break it.

A restore and the one-off encryption each replace several files and folders (database,
key file, blobs, audit head) with new ones that have already been written and checked
beside them. The plan of moves is written to a journal (``casebook.journal``) before the
first rename; then the current files are moved aside, then the new ones moved in. Whoever
opens the data folder next (holding its lock) finds the journal and finishes the same
plan, so after a cut the folder holds either the untouched original (cut before the
journal) or the whole new set (cut after it), never a mixture: never a database without
its key file, never an empty casebook set up over the top.

The plan is safe to run again from any point. Moves out come first; a move in is only made
once every move out is done, so "is the new file still in staging?" tells how far it got.
A start-up in between may have recreated an empty ``blobs`` folder; that is put away, not
mistaken for the original.

``fault_point`` names every rename of these operations so the crash tests can kill the
process (SIGKILL) just before each one and count them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.domain.errors import DataDirectoryError
from app.files import fsync_folder, replace_file

log = logging.getLogger(__name__)

JOURNAL = "casebook.journal"
# Where a backup and a restore write and check their files before the swap (a folder of
# each run's own in the data folder); one a killed run left is removed at the next start.
RESTORE_STAGING = ".restore-"
BACKUP_STAGING = ".backup-"

# Crash tests only: "restore:3" kills this process just before the third rename of a
# restore; with the log variable set, the name of every rename point is appended there.
KILL_BEFORE_ENV = "CASEBOOK_FAULT_KILL_BEFORE"
STEP_LOG_ENV = "CASEBOOK_FAULT_STEP_LOG"
_steps: dict[str, int] = {}


def fault_point(operation: str, what: str) -> None:
    """Mark the moment before one rename of ``operation`` (a no-op outside crash tests)."""
    kill = os.environ.get(KILL_BEFORE_ENV)
    record = os.environ.get(STEP_LOG_ENV)
    if not kill and not record:
        return
    _steps[operation] = _steps.get(operation, 0) + 1
    step = f"{operation}:{_steps[operation]}"
    if record:
        with open(record, "a", encoding="ascii") as out:
            out.write(f"{step} {what}\n")
    if kill == step:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


@dataclass
class SwapPlan:
    """What one swap moves: names relative to the data folder."""

    operation: str  # "restore" or "encrypt": the name the fault points count under
    aside: str  # folder the current files are moved into
    moves_out: list[str]  # current files/folders, moved into ``aside`` under the same name
    moves_in: list[tuple[str, str]]  # (checked new file, its name in the data folder)
    discard: list[str] = field(default_factory=list)  # removed once everything is in place

    def dump(self) -> bytes:
        return json.dumps(asdict(self), indent=1).encode("utf-8")

    @classmethod
    def parse(cls, raw: bytes) -> SwapPlan:
        data = json.loads(raw)
        return cls(
            operation=str(data["operation"]),
            aside=str(data["aside"]),
            moves_out=[str(name) for name in data["moves_out"]],
            moves_in=[(str(a), str(b)) for a, b in data["moves_in"]],
            discard=[str(name) for name in data.get("discard", [])],
        )


def _inside(root: Path, relative: str) -> Path:
    path = root / relative
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise DataDirectoryError(f"The journal {root / JOURNAL} is damaged; nothing was changed.")
    return path


def journal_exists(root: Path) -> bool:
    """True while a swap is in progress, or was cut short and is waiting to be finished."""
    return (root / JOURNAL).exists()


def run_swap(root: Path, plan: SwapPlan) -> None:
    """Write the journal, then carry out ``plan``; the next start finishes it after a cut."""
    temp = root / f".{JOURNAL}.new"
    with open(temp, "wb") as out:
        out.write(plan.dump())
        out.flush()
        os.fsync(out.fileno())
    fault_point(plan.operation, "journal")
    replace_file(temp, root / JOURNAL)
    fsync_folder(root)
    _carry_out(root, plan)


def finish_swap(root: Path) -> str | None:
    """Finish a swap a power cut interrupted; the operation's name, or None if there was none."""
    journal = root / JOURNAL
    try:
        raw = journal.read_bytes()
    except FileNotFoundError:
        (root / f".{JOURNAL}.new").unlink(missing_ok=True)
        return None
    try:
        plan = SwapPlan.parse(raw)
    except (ValueError, KeyError, TypeError) as error:
        raise DataDirectoryError(
            f"The journal {journal} of an interrupted restore or encryption is damaged, so "
            "it cannot be finished; nothing was changed. Keep the data folder as it is and "
            "ask for help."
        ) from error
    log.warning("Finishing the %s that was interrupted", plan.operation)
    _carry_out(root, plan)
    return plan.operation


def _put_away(path: Path, aside: Path) -> None:
    """Something recreated where a moved file was (an empty folder made at start-up)."""
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()
        return
    counter = 1
    while (aside / f"{path.name}-found-{counter}").exists():
        counter += 1
    replace_file(path, aside / f"{path.name}-found-{counter}")


def _carry_out(root: Path, plan: SwapPlan) -> None:
    aside = _inside(root, plan.aside)
    aside.mkdir(exist_ok=True)
    pending_in = [(src, name) for src, name in plan.moves_in if _inside(root, src).exists()]
    if len(pending_in) == len(plan.moves_in):
        # Nothing has been moved in yet: every move out may still be to do.
        for name in plan.moves_out:
            here = _inside(root, name)
            if not (here.exists() or here.is_symlink()):
                continue
            if (aside / name).exists():
                _put_away(here, aside)
                continue
            fault_point(plan.operation, f"out:{name}")
            replace_file(here, aside / name)
        fsync_folder(aside)
    for src, name in pending_in:
        target = _inside(root, name)
        if target.exists():
            _put_away(target, aside)
        fault_point(plan.operation, f"in:{name}")
        replace_file(_inside(root, src), target)
    fsync_folder(root)
    for name in plan.discard:
        path = _inside(root, name)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    fsync_folder(root)
    (root / JOURNAL).unlink()
    fsync_folder(root)


def remove_staging(root: Path) -> None:
    """At start-up (holding the lock): remove staging folders of a killed backup or restore.

    Here rather than beside the backups, so that opening a casebook does not import the
    backup and restore code (about 2 ms of a letter from the command line)."""
    if journal_exists(root):
        return
    for path in root.glob(".*"):
        if path.is_dir() and path.name.startswith((RESTORE_STAGING, BACKUP_STAGING)):
            shutil.rmtree(path, ignore_errors=True)
            log.info("Removed the staging folder %s left by an interrupted run", path.name)
