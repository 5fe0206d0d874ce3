"""Turning failures of the storage underneath the app into one sentence with a way forward.

The disk fills, a folder becomes read-only, a file is damaged: the operating system and
the database report these as low-level errors. The edges (cli.py, ui/) pass them here and
show the sentence; the details stay in the log.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.db.engine import SQLITE_DATABASE_ERRORS, SQLITE_ERRORS, damaged_database
from app.domain.errors import (
    CasebookError,
    DataDirectoryError,
    ReadOnlyDataError,
    StorageFullError,
)

# The edges (CLI, window) catch these alongside OSError and SQLAlchemy's errors.
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, SQLAlchemyError, *SQLITE_ERRORS)

_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
# PostgreSQL's codes: disk_full, and the data_corrupted / index_corrupted class.
_PG_FULL = {"53100"}
_PG_DAMAGED = {"XX001", "XX002"}


def explain_storage_failure(error: BaseException, data_dir: Path) -> CasebookError | None:
    """A clear refusal for a storage failure, or None when ``error`` is something else."""
    original = error.orig if isinstance(error, DBAPIError) else error
    message = str(original).lower()
    code = getattr(original, "sqlstate", None)
    io_error = isinstance(original, SQLITE_ERRORS) and "disk i/o error" in message
    if (
        (isinstance(original, OSError) and original.errno in _FULL)
        or code in _PG_FULL
        or (isinstance(original, SQLITE_ERRORS) and "disk is full" in message)
        or (io_error and _nearly_full(data_dir))
    ):
        return StorageFullError(
            f"The disk holding the data folder {data_dir} is full, so the change was not "
            "saved; free some space on it and try again."
        )
    if (isinstance(original, OSError) and original.errno in _READ_ONLY) or (
        isinstance(original, SQLITE_ERRORS) and "readonly" in message
    ):
        return ReadOnlyDataError(
            f"The data folder {data_dir} cannot be written (it is read-only); nothing was "
            "changed. Ask for write access to it, or choose another data folder."
        )
    if code in _PG_DAMAGED or (
        isinstance(original, SQLITE_DATABASE_ERRORS)
        and ("malformed" in message or "not a database" in message)
    ):
        return damaged_database(data_dir, data_dir / "casebook.sqlite3")
    if io_error:
        return DataDirectoryError(
            f"The disk holding the data folder {data_dir} reported an error, so nothing was "
            "changed; check the disk (or network share) and try again."
        )
    return None


def _nearly_full(folder: Path) -> bool:
    # SQLite says only "disk I/O error" when it cannot even create its shared-memory file.
    try:
        return shutil.disk_usage(folder).free < 1_000_000
    except OSError:
        return False
