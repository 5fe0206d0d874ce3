"""Backups of a casebook on this PC: one checked file holding the database and every blob.

A backup is a zip file: ``manifest.json`` (what it is, the schema revision, and the SHA-256
of the database copy and of each blob), ``casebook.sqlite3`` (a consistent online copy made
with SQLite's backup API while the window may be writing) and ``blobs/ab/cdef...``. It is
written under a temporary name, fsynced, re-read and checked, and only then renamed into
place and recorded as the last good backup.

A restore checks the whole backup into a staging folder inside the data folder first; the
current database and blobs are moved aside (``before-restore-YYYYMMDD-HHMMSS``) only once
the staged copy has passed every check, so a damaged backup never costs the current data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine

from app import __version__
from app.config import DataPaths
from app.db.engine import known_revisions
from app.db.models import SettingRecord
from app.domain.access import Permission
from app.domain.dates import as_utc, format_date_time, to_london
from app.domain.errors import BackupError, ValidationError
from app.evidence.blobstore import BlobStore
from app.services.audit import head_file
from app.services.context import ServiceContext

log = logging.getLogger(__name__)

FORMAT = "conduct-casebook-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "casebook.sqlite3"
PREFIX = "casebook-backup-"
SUFFIX = ".zip"
PARTIAL = ".partial"
CHUNK = 1024 * 1024

KEEP_SETTING = "backup.keep"
WARN_DAYS_SETTING = "backup.warn_after_days"
LAST_AT_SETTING = "backup.last_good_at"
LAST_PATH_SETTING = "backup.last_good_path"
DEFAULT_KEEP = 10
DEFAULT_WARN_DAYS = 7

# (done, total) in bytes; the dialog's progress bar.
Progress = Callable[[int, int], None]

SERVER_REFUSAL = (
    "This casebook is kept on the trust's database server, which is backed up by the "
    "server's own tools (pg_dump); ask whoever looks after the server."
)


@dataclass(frozen=True)
class BackupFile:
    """One backup in a folder, as the Backup & Restore dialog lists it."""

    path: Path
    taken_at: datetime  # UTC, from the file's modification time
    size: int


@dataclass(frozen=True)
class BackupResult:
    """A backup that was made and checked."""

    path: Path
    size: int
    blobs: int
    removed: tuple[Path, ...]  # older backups removed to keep the last N


@dataclass(frozen=True)
class RestoreResult:
    """A restore that was done: where the previous data was put aside."""

    backup: Path
    set_aside: Path
    taken_at: datetime


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp(moment: datetime) -> str:
    return to_london(moment).strftime("%Y%m%d-%H%M%S")


def _integrity(db_path: Path) -> str:
    """'ok', or SQLite's first complaint about the file."""
    try:
        connection = sqlite3.connect(db_path)
        try:
            row = connection.execute("PRAGMA integrity_check").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return str(error)
    return str(row[0]) if row else "no answer"


def _revision(db_path: Path) -> str | None:
    connection = sqlite3.connect(db_path)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def _copy_hashing(source: IO[bytes], target: IO[bytes] | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest(), size


class BackupService:
    """Make, list, check and restore backups of the casebook held in this PC's data folder."""

    def __init__(
        self, ctx: ServiceContext, paths: DataPaths, store: BlobStore | None, engine: Engine
    ) -> None:
        self.ctx = ctx
        self.paths = paths
        self.store = store
        self.engine = engine

    # ----- settings -------------------------------------------------------------------

    def _setting(self, key: str) -> str | None:
        with self.ctx.sessions() as session:
            row = session.get(SettingRecord, key)
        return row.value if row is not None else None

    def _int_setting(self, key: str, default: int) -> int:
        value = self._setting(key)
        try:
            return max(1, int(value)) if value is not None else default
        except ValueError:
            log.warning("Ignoring unreadable %s setting %r", key, value)
            return default

    def keep_count(self) -> int:
        """How many backups are kept in a folder (the oldest beyond this are removed)."""
        return self._int_setting(KEEP_SETTING, DEFAULT_KEEP)

    def warn_after_days(self) -> int:
        """After how many days without a good backup the window reminds the user."""
        return self._int_setting(WARN_DAYS_SETTING, DEFAULT_WARN_DAYS)

    def set_policy(self, *, keep: int | None = None, warn_after_days: int | None = None) -> None:
        """Change how many backups are kept and when the reminder appears."""
        self.ctx.require(Permission.BACKUP, action="change backup settings")
        with self.ctx.sessions.begin() as session:
            if keep is not None:
                if not 1 <= keep <= 1000:
                    raise ValidationError("Keep between 1 and 1000 backups.", "keep")
                session.merge(SettingRecord(key=KEEP_SETTING, value=str(keep)))
            if warn_after_days is not None:
                if not 1 <= warn_after_days <= 365:
                    raise ValidationError(
                        "The backup reminder can come after 1 to 365 days.", "warn_after_days"
                    )
                session.merge(SettingRecord(key=WARN_DAYS_SETTING, value=str(warn_after_days)))

    def last_good(self) -> tuple[datetime, Path] | None:
        """When and where the last checked backup was made, if ever."""
        at, path = self._setting(LAST_AT_SETTING), self._setting(LAST_PATH_SETTING)
        if not at or not path:
            return None
        try:
            return as_utc(datetime.fromisoformat(at)), Path(path)
        except ValueError:
            return None

    def reminder(self) -> str | None:
        """A calm sentence for the window when the last good backup is too old, else None."""
        if self.ctx.dialect != "sqlite":
            return None
        last = self.last_good()
        where = "use File › Backup & Restore to make one"
        if last is None:
            return f"No backup of this casebook has been made yet; {where}."
        age = self.ctx.now() - last[0]
        if age < timedelta(days=self.warn_after_days()):
            return None
        return (
            f"The last good backup was made on {format_date_time(last[0])}, "
            f"{age.days} days ago; {where}."
        )

    # ----- making a backup -------------------------------------------------------------

    def _refuse_server(self) -> None:
        if self.ctx.dialect != "sqlite" or self.store is None:
            raise BackupError(SERVER_REFUSAL)

    def backup(self, folder: Path, progress: Progress | None = None) -> BackupResult:
        """Write one checked backup file into ``folder`` and keep only the newest N there."""
        self.ctx.require(Permission.BACKUP, action="backup", detail=str(folder))
        self._refuse_server()
        assert self.store is not None
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BackupError(
                f"The backup folder {folder} cannot be created ({error.strerror}); "
                "choose another folder."
            ) from error
        now = self.ctx.now()
        target = folder / f"{PREFIX}{_stamp(now)}{SUFFIX}"
        counter = 1
        while target.exists():
            counter += 1
            target = folder / f"{PREFIX}{_stamp(now)}-{counter}{SUFFIX}"
        partial = target.with_name(target.name + PARTIAL)
        snapshot = folder / f".{target.stem}-database.tmp"
        try:
            self._snapshot(snapshot)
            problem = _integrity(snapshot)
            if problem != "ok":
                raise BackupError(
                    "The casebook's database did not pass its integrity check, so no backup "
                    "was made; details are in the log file."
                )
            blobs = sorted(self.store.all_hashes())
            sizes = {sha: self.store.path_for(sha).stat().st_size for sha in blobs}
            total = snapshot.stat().st_size + sum(sizes.values())
            self._write_archive(partial, snapshot, blobs, now, total, progress)
            check_archive(partial)
            os.replace(partial, target)
            _fsync_dir(folder)
        except OSError as error:
            log.exception("Backup to %s failed", folder)
            raise BackupError(
                f"The backup could not be written to {folder} ({error.strerror or error}); "
                "nothing was recorded as a good backup. Check the disk and try again."
            ) from error
        finally:
            partial.unlink(missing_ok=True)
            snapshot.unlink(missing_ok=True)
        with self.ctx.sessions.begin() as session:
            session.merge(SettingRecord(key=LAST_AT_SETTING, value=now.isoformat()))
            session.merge(SettingRecord(key=LAST_PATH_SETTING, value=str(target)))
        removed = self._prune(folder, keep=self.keep_count())
        size = target.stat().st_size
        log.info("Backup written to %s (%d bytes, %d blobs)", target, size, len(blobs))
        return BackupResult(target, size, len(blobs), removed)

    def _snapshot(self, target: Path) -> None:
        # One backup step copies every page under one read transaction: a consistent copy
        # even while another connection (the window, a command) is writing.
        source = sqlite3.connect(self.paths.database)
        try:
            dest = sqlite3.connect(target)
            try:
                source.backup(dest)
                dest.execute("PRAGMA journal_mode=DELETE")
            finally:
                dest.close()
        finally:
            source.close()

    def _write_archive(
        self,
        partial: Path,
        snapshot: Path,
        blobs: list[str],
        now: datetime,
        total: int,
        progress: Progress | None,
    ) -> None:
        assert self.store is not None
        done = 0
        entries: list[dict[str, Any]] = []
        with open(partial, "xb") as raw:
            with zipfile.ZipFile(raw, "w", allowZip64=True) as archive:
                with (
                    open(snapshot, "rb") as source,
                    archive.open(
                        zipfile.ZipInfo(DATABASE, date_time=_zip_time(now)), "w", force_zip64=True
                    ) as out,
                ):
                    db_hash, db_size = _copy_hashing(source, out)
                done += db_size
                if progress is not None:
                    progress(done, total)
                for sha in blobs:
                    try:
                        handle = self.store.open(sha)
                    except FileNotFoundError:
                        # Removed since it was listed (a deleted case): no record refers to it.
                        log.info("Blob %s vanished during the backup", sha)
                        continue
                    name = f"blobs/{sha[:2]}/{sha[2:]}"
                    with (
                        handle,
                        archive.open(
                            zipfile.ZipInfo(name, date_time=_zip_time(now)), "w", force_zip64=True
                        ) as out,
                    ):
                        digest, size = _copy_hashing(handle, out)
                    entries.append({"name": name, "sha256": digest, "size": size})
                    done += size
                    if progress is not None:
                        progress(done, total)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "app_version": __version__,
                    "schema_revision": _revision(snapshot),
                    "created_at": now.isoformat(),
                    "database": {"name": DATABASE, "sha256": db_hash, "size": db_size},
                    "blobs": entries,
                }
                archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
            raw.flush()
            os.fsync(raw.fileno())

    def _prune(self, folder: Path, keep: int) -> tuple[Path, ...]:
        backups = self.list_backups(folder)
        removed = []
        for old in backups[keep:]:
            try:
                old.path.unlink()
                removed.append(old.path)
            except OSError:
                log.warning("Could not remove the old backup %s", old.path, exc_info=True)
        return tuple(removed)

    def list_backups(self, folder: Path) -> list[BackupFile]:
        """The casebook backups in ``folder``, newest first."""
        if not folder.is_dir():
            return []
        found = []
        for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
            try:
                info = path.stat()
            except OSError:
                continue
            found.append(BackupFile(path, datetime.fromtimestamp(info.st_mtime, UTC), info.st_size))
        # The name carries the time it was taken; it sorts the same as the time.
        return sorted(found, key=lambda b: (b.path.name, b.taken_at), reverse=True)

    # ----- restoring ------------------------------------------------------------------

    def restore(self, archive: Path) -> RestoreResult:
        """Replace the casebook with a checked backup; the current data is kept aside.

        The caller must hold the data folder's lock. Afterwards this Services object is
        closed: open the casebook again to use the restored data.
        """
        self.ctx.require(Permission.BACKUP, action="restore", detail=str(archive))
        self._refuse_server()
        now = self.ctx.now()
        root = self.paths.root
        staging = root / f".restore-{_stamp(now)}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            manifest = check_archive(archive, extract_to=staging)
            self.engine.dispose()
            aside = self._swap_in(staging, now)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _write_audit_head(self.paths)
        taken = as_utc(datetime.fromisoformat(manifest["created_at"]))
        log.info("Restored the casebook from %s; previous data kept in %s", archive, aside)
        return RestoreResult(archive, aside, taken)

    def _swap_in(self, staging: Path, now: datetime) -> Path:
        root = self.paths.root
        database = self.paths.database
        # Fold the write-ahead log into the file so the copy set aside is whole on its own.
        if database.exists():
            connection = sqlite3.connect(database)
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
        aside = root / f"before-restore-{_stamp(now)}"
        counter = 1
        while aside.exists():
            counter += 1
            aside = root / f"before-restore-{_stamp(now)}-{counter}"
        aside.mkdir()
        audit_head = head_file(root)
        for path in (self.paths.blobs, audit_head):
            if path.exists():
                os.replace(path, aside / path.name)
        os.replace(staging / "blobs", self.paths.blobs)
        for suffix in ("-wal", "-shm"):
            extra = database.with_name(database.name + suffix)
            if extra.exists():
                os.replace(extra, aside / extra.name)
        if database.exists():
            os.replace(database, aside / database.name)
        os.replace(staging / DATABASE, database)
        _fsync_dir(aside)
        _fsync_dir(root)
        return aside


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    local = to_london(moment)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def _write_audit_head(paths: DataPaths) -> None:
    """Record the restored database's newest audit entry outside it, as the audit trail does."""
    connection = sqlite3.connect(paths.database)
    try:
        row = connection.execute(
            "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    except sqlite3.DatabaseError:
        row = None  # a backup from before the audit trail existed
    finally:
        connection.close()
    if row is not None:
        head_file(paths.root).write_text(f"{row[0]} {row[1]}\n", encoding="ascii")


def _damaged(archive: Path, what: str) -> BackupError:
    return BackupError(
        f"The backup {archive.name} is damaged ({what}) and cannot be used; nothing was "
        "changed. Choose another backup."
    )


def check_archive(archive: Path, extract_to: Path | None = None) -> dict[str, Any]:
    """Check a backup file completely and return its manifest; refuse (BackupError) if not good.

    Every entry is re-hashed against the manifest, the database copy must pass SQLite's
    integrity check and be a Conduct Casebook schema this version can open. With
    ``extract_to``, the database and blobs are left there for a restore to move into place.
    """
    if not archive.is_file():
        raise BackupError(f"There is no backup file at {archive}.")
    not_ours = BackupError(
        f"The file {archive.name} is not a Conduct Casebook backup; nothing was changed."
    )
    work = extract_to or archive.with_name(f".{archive.name}.check")
    if extract_to is None:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
    try:
        try:
            with zipfile.ZipFile(archive) as zipped:
                names = set(zipped.namelist())
                if MANIFEST not in names:
                    raise not_ours
                try:
                    manifest = json.loads(zipped.read(MANIFEST))
                except ValueError:
                    raise _damaged(archive, "its list of contents is unreadable") from None
                if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                    raise not_ours
                if manifest.get("format_version", 0) > FORMAT_VERSION:
                    raise BackupError(
                        f"The backup {archive.name} was made by a newer version of Conduct "
                        "Casebook; install that version to restore it. Nothing was changed."
                    )
                database = manifest["database"]
                db_copy = work / DATABASE
                with zipped.open(DATABASE) as source, open(db_copy, "wb") as out:
                    digest, size = _copy_hashing(source, out)
                    out.flush()
                    os.fsync(out.fileno())
                if digest != database["sha256"] or size != database["size"]:
                    raise _damaged(archive, "the database copy does not match its hash")
                listed = {MANIFEST, DATABASE}
                for entry in manifest["blobs"]:
                    name = entry["name"]
                    listed.add(name)
                    if name not in names:
                        raise _damaged(archive, "a file of evidence or a letter is missing")
                    target = work / name if extract_to is not None else None
                    with zipped.open(name) as source:
                        if target is None:
                            digest, size = _copy_hashing(source, None)
                        else:
                            target.parent.mkdir(parents=True, exist_ok=True)
                            with open(target, "wb") as out:
                                digest, size = _copy_hashing(source, out)
                                out.flush()
                                os.fsync(out.fileno())
                    expected = name.removeprefix("blobs/").replace("/", "")
                    if digest != entry["sha256"] or digest != expected or size != entry["size"]:
                        raise _damaged(archive, "a file of evidence or a letter has changed")
                if extract_to is not None:
                    (work / "blobs").mkdir(exist_ok=True)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
            log.warning("Backup %s could not be read: %s", archive, error)
            raise _damaged(archive, "the file is incomplete or has changed") from error
        except (KeyError, TypeError) as error:
            log.warning("Backup %s has an unexpected manifest: %s", archive, error)
            raise _damaged(archive, "its list of contents is incomplete") from error
        problem = _integrity(db_copy)
        if problem != "ok":
            log.warning("Backup %s database failed integrity_check: %s", archive, problem)
            raise _damaged(archive, "the database copy fails its integrity check")
        revision = _revision(db_copy)
        if revision is None:
            raise not_ours
        if revision not in known_revisions():
            raise BackupError(
                f"The backup {archive.name} was made by a newer version of Conduct Casebook "
                f"than this one; install the newer version to restore it. Nothing was changed."
            )
        return dict(manifest)
    finally:
        if extract_to is None:
            shutil.rmtree(work, ignore_errors=True)
