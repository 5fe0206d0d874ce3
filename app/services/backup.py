"""Backups of a casebook on this PC: one checked file holding the database and every blob.

A backup is a zip file: ``manifest.json`` (what it is, the schema revision, and the SHA-256
of the database copy and of each blob, signed with the data key), ``casebook.sqlite3`` (a
consistent online copy made with SQLite's backup API while the window may be writing),
``casebook.keys`` (the keyring) and ``blobs/ab/cdef...``. Everything in it is encrypted as
it is in the data folder: the database under SQLCipher, the blobs sealed, the data key
only wrapped under the users' passwords and the recovery key, so a lost memory stick
gives nothing away. It is written under a temporary name, fsynced, re-read and checked,
and only then renamed into place and recorded as the last good backup.

A restore checks the whole backup into a staging folder inside the data folder first; the
current database and blobs are moved aside (``before-restore-YYYYMMDD-HHMMSS``) only once
the staged copy has passed every check, so a damaged backup never costs the current data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import shutil
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine

from app import __version__
from app.config import DataDirLock, DataPaths
from app.db.engine import SQLITE_DATABASE_ERRORS, connect_encrypted, known_revisions
from app.db.models import SettingRecord
from app.domain.access import Permission
from app.domain.dates import as_utc, format_date_time, to_london
from app.domain.errors import BackupError, CasebookError, KeyFileError, ValidationError
from app.evidence.blobstore import BlobStore
from app.files import fsync_folder, replace_file, same_disk
from app.security.crypto import DataKey, WrongKeyError
from app.security.keyring import FILE_NAME as KEYRING
from app.security.keyring import (
    Keyring,
    KeyringDamagedError,
    KeyringFile,
    KeyringStore,
    derived_identity,
    user_key,
)
from app.services.audit import anchor_file, head_file, write_anchor_row
from app.services.context import ServiceContext
from app.services.keys import CasebookKeys, KeyHolder
from app.services.swap import (
    BACKUP_STAGING,
    RESTORE_STAGING,
    SwapPlan,
    fault_point,
    journal_exists,
    run_swap,
)

log = logging.getLogger(__name__)

FORMAT = "conduct-casebook-backup"
FORMAT_VERSION = 2  # 2: encrypted database and blobs, keyring, signed manifest
MANIFEST = "manifest.json"
DATABASE = "casebook.sqlite3"
PREFIX = "casebook-backup-"
SUFFIX = ".zip"
PARTIAL = ".partial"
CHUNK = 1024 * 1024
FIXED_ENTRIES = frozenset({MANIFEST, DATABASE, KEYRING})
BLOB_ENTRY = re.compile(r"blobs/[0-9a-f]{2}/[0-9a-f]{62}")
# Bounds checked before anything is read into memory or written to disk.
MAX_MANIFEST = 64 * 1024 * 1024
MAX_KEYRING = 16 * 1024 * 1024
MAX_ENTRY = 1 << 44  # 16 TB: a size in the manifest beyond any real file
SPACE_MARGIN = 64 * 1024 * 1024  # kept free for the database's own work after a restore

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


def _stamp(moment: datetime) -> str:
    return to_london(moment).strftime("%Y%m%d-%H%M%S")


def _integrity(db_path: Path, key: DataKey) -> str:
    """'ok', or SQLite's first complaint about the file."""
    try:
        connection = connect_encrypted(db_path, key)
        try:
            row = connection.execute("PRAGMA integrity_check").fetchone()
        finally:
            connection.close()
    except SQLITE_DATABASE_ERRORS as error:
        return str(error)
    return str(row[0]) if row else "no answer"


def _revision(db_path: Path, key: DataKey) -> str | None:
    connection = connect_encrypted(db_path, key)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except SQLITE_DATABASE_ERRORS:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def _signed_part(manifest: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True).encode("utf-8")


def backup_keyring(archive: Path) -> Keyring:
    """The keyring inside a backup, to open its key with a password or the recovery key."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            infos = _entries(archive, zipped)
            manifest = _read_manifest(archive, zipped, infos)
            _check_format(archive, manifest)
            if KEYRING not in infos or infos[KEYRING].file_size > MAX_KEYRING:
                raise _damaged(archive, "its key file is missing or too large")
            return Keyring.parse(_read_bounded(zipped, infos[KEYRING], MAX_KEYRING))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        ValueError,
        KeyringDamagedError,
    ) as error:
        log.warning("Backup %s keyring could not be read: %s", archive, error)
        raise _damaged(archive, "its key file is unreadable") from error
    except OSError as error:
        raise BackupError(f"There is no backup file at {archive}.") from error


def casebook_identity(keyring: Keyring, key: DataKey, where: Path) -> str:
    """The identity in a casebook's keyring; a clear refusal when it has been altered."""
    try:
        return keyring.casebook_identity(key)
    except KeyringDamagedError:
        log.error("The casebook identity in %s does not match its key", where)
        raise KeyFileError(
            f"The key file {where} is damaged (the casebook's identity in it was altered), "
            "so nothing was changed; restore the data folder from the school's backup."
        ) from None


def backup_identity(manifest: dict[str, Any], key: DataKey) -> str:
    """The identity of the casebook a checked backup was made of."""
    named = manifest.get("casebook_id")
    return str(named) if named else derived_identity(key)


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
        self,
        ctx: ServiceContext,
        paths: DataPaths,
        store: BlobStore | None,
        engine: Engine,
        key: Callable[[], DataKey | None],
    ) -> None:
        self.ctx = ctx
        self.paths = paths
        self.store = store
        self.engine = engine
        self._key = key

    @property
    def key(self) -> DataKey:
        """The open data key (a backup is only made or restored after signing in)."""
        key = self._key()
        assert key is not None, "signed in before backing up"
        return key

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
        where = "use Administration › Backup & Restore to make one"
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

    def folder_advice(self, folder: Path) -> str | None:
        """A warning when ``folder`` is on the casebook's own disk, else None.

        A backup on the same disk is lost with the casebook if the disk fails or the PC
        is stolen; a USB drive kept elsewhere or the school's network drive is safer.
        """
        if not same_disk(folder, self.paths.root):
            return None
        return (
            "This folder is on the same disk as the casebook, so a failed disk or a stolen "
            "PC would lose both; choose a USB drive kept elsewhere or the school's network "
            "drive."
        )

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
        remove_leftovers(folder)
        now = self.ctx.now()
        target = folder / f"{PREFIX}{_stamp(now)}{SUFFIX}"
        counter = 1
        while target.exists():
            counter += 1
            target = folder / f"{PREFIX}{_stamp(now)}-{counter}{SUFFIX}"
        partial = target.with_name(target.name + PARTIAL)
        # The database copy and the check are made in a staging folder inside the data
        # folder (private, and tidied at the next start if this process is killed).
        work = self.paths.root / f"{BACKUP_STAGING}{secrets.token_hex(6)}"
        snapshot = work / DATABASE
        writing = _Writing(partial)
        try:
            work.mkdir(mode=0o700)
            writing.__enter__()
            self._snapshot(snapshot)
            problem = _integrity(snapshot, self.key)
            if problem != "ok":
                raise BackupError(
                    "The casebook's database did not pass its integrity check, so no backup "
                    "was made; details are in the log file."
                )
            blobs = sorted(self.store.stored_names())
            sizes = {name: self.store.path_for_name(name).stat().st_size for name in blobs}
            total = snapshot.stat().st_size + sum(sizes.values())
            self._write_archive(partial, snapshot, blobs, now, total, progress)
            snapshot.unlink()
            check = work / "check"
            check.mkdir(mode=0o700)
            check_archive(partial, self.key, check, identity=self._identity())
            fault_point("backup", "in:backup")
            replace_file(partial, target)
            fsync_folder(folder)
        except OSError as error:
            log.exception("Backup to %s failed", folder)
            raise BackupError(
                f"The backup could not be written to {folder} ({error.strerror or error}); "
                "nothing was recorded as a good backup. Check the disk and try again."
            ) from error
        finally:
            partial.unlink(missing_ok=True)
            writing.__exit__()
            shutil.rmtree(work, ignore_errors=True)
        with self.ctx.sessions.begin() as session:
            session.merge(SettingRecord(key=LAST_AT_SETTING, value=now.isoformat()))
            session.merge(SettingRecord(key=LAST_PATH_SETTING, value=str(target)))
        removed = self._prune(folder, keep=self.keep_count())
        size = target.stat().st_size
        log.info("Backup written to %s (%d bytes, %d blobs)", target, size, len(blobs))
        return BackupResult(target, size, len(blobs), removed)

    def _identity(self) -> str:
        try:
            keyring = Keyring.parse(self.paths.keyring.read_bytes())
        except KeyringDamagedError as error:
            raise KeyFileError(
                f"The key file {self.paths.keyring} is damaged, so no backup was made."
            ) from error
        return casebook_identity(keyring, self.key, self.paths.keyring)

    def _snapshot(self, target: Path) -> None:
        # One backup step copies every page under one read transaction: a consistent copy
        # even while another connection (the window, a command) is writing.
        source = connect_encrypted(self.paths.database, self.key)
        try:
            dest = connect_encrypted(target, self.key)
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
        with _private_file(partial) as raw:
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
                keyring = self.paths.keyring.read_bytes()
                identity = self._identity()
                archive.writestr(zipfile.ZipInfo(KEYRING, date_time=_zip_time(now)), keyring)
                for stored in blobs:
                    try:
                        handle = self.store.open_sealed(stored)
                    except FileNotFoundError:
                        # Removed since it was listed (a deleted case): no record refers to it.
                        log.info("Blob %s vanished during the backup", stored)
                        continue
                    name = f"blobs/{stored[:2]}/{stored[2:]}"
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
                    "schema_revision": _revision(snapshot, self.key),
                    "created_at": now.isoformat(),
                    "casebook_id": identity,
                    "key_check": self.key.check_value(),
                    "database": {"name": DATABASE, "sha256": db_hash, "size": db_size},
                    "keyring": {
                        "name": KEYRING,
                        "sha256": hashlib.sha256(keyring).hexdigest(),
                        "size": len(keyring),
                    },
                    "blobs": entries,
                }
                manifest["signature"] = self.key.sign(_signed_part(manifest))
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

    def restore(
        self, archive: Path, *, password: str | None = None, recovery_key: str | None = None
    ) -> RestoreResult:
        """Replace the casebook with a checked backup of it; the current data is kept aside.

        Only a backup of this casebook (its identity and key) is taken. The head teacher
        confirms with their password, or the recovery key, of the casebook as it is now.
        The caller must hold the data folder's lock. Afterwards this Services object is
        closed: open the casebook again to use the restored data.
        """
        self.ctx.require(Permission.BACKUP, action="restore", detail=str(archive))
        self._refuse_server()
        key = self.key
        keys = CasebookKeys(KeyringStore(KeyringFile(self.paths.keyring)), KeyHolder())
        keyring = keys.load()
        if keyring is None:
            raise BackupError("The casebook's key file is missing; nothing was changed.")
        if keyring.wraps:  # (while still being set up there is nobody to confirm)
            # The same checks as signing in: wrong passwords count towards the lock-out.
            if recovery_key is not None:
                confirmed = keys.open_with_recovery_key(recovery_key)
            else:
                name = self.ctx.current_user.name
                confirmed = keys.open_with_password(name, password or "", self.ctx.now())
            if confirmed != key:
                raise BackupError("That key does not open this casebook; nothing was restored.")
        identity = casebook_identity(keyring, key, self.paths.keyring)
        self.engine.dispose()
        return restore_backup(
            self.paths, archive, key, self.ctx.now(), current_key=key, identity=identity
        )


class _Writing:
    """A lock beside a backup being written, so the next backup can tell a dead one's
    ``.partial`` file (removed) from one still being written by another process."""

    def __init__(self, partial: Path) -> None:
        self.path = partial.with_name(f".{partial.name}.lock")
        self._lock: DataDirLock | None = None

    def __enter__(self) -> _Writing:
        lock = DataDirLock(self.path)
        lock.acquire()
        self._lock = lock
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
            self.path.unlink(missing_ok=True)


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove what a backup killed part-way left in ``folder`` (its ``.zip.partial``)."""
    removed: list[Path] = []
    for lock_path in folder.glob(f".{PREFIX}*{SUFFIX}{PARTIAL}.lock"):
        lock = DataDirLock(lock_path)
        try:
            lock.acquire()
        except CasebookError:
            continue  # another process is writing that backup now
        partial = lock_path.with_name(lock_path.name[1 : -len(".lock")])
        try:
            if partial.exists():
                partial.unlink()
                removed.append(partial)
        finally:
            lock.release()
        lock_path.unlink(missing_ok=True)
    # Left by a version without the lock (which also copied the database here): a
    # backup writes its files continuously, so one untouched for an hour is dead.
    older = [*folder.glob(f"{PREFIX}*{SUFFIX}{PARTIAL}"), *folder.glob(f".{PREFIX}*-database.tmp*")]
    for leftover in older:
        if (
            leftover.name.endswith(PARTIAL)
            and leftover.with_name(f".{leftover.name}.lock").exists()
        ):
            continue
        try:
            stale = leftover.stat().st_mtime < datetime.now(UTC).timestamp() - 3600
        except FileNotFoundError:
            continue
        if stale:
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    if removed:
        log.info("Removed %d unfinished backup file(s) from %s", len(removed), folder)
    return removed


def restore_backup(
    paths: DataPaths,
    archive: Path,
    key: DataKey,
    now: datetime,
    *,
    current_key: DataKey | None = None,
    allowed: Callable[[Path], None] | None = None,
    identity: str | None = None,
) -> RestoreResult:
    """Check ``archive`` with its data key, then swap it in; the current data is kept aside.

    ``key`` is the casebook's key (or, into an empty data folder, one opened from the
    backup's own keyring). With ``identity`` the backup must be of that casebook. Nothing
    in the data folder is touched until the whole backup has been extracted into a
    staging folder and checked; the swap is journalled, so a power cut part-way is
    finished at the next start. ``current_key`` (when the current database can be
    opened) folds its write-ahead log in first, so the copy kept aside is whole on its
    own. ``allowed`` is shown the checked database copy before anything is swapped, and
    refuses by raising (the restoring user's role).
    """
    root = paths.root
    staging = root / f"{RESTORE_STAGING}{secrets.token_hex(6)}"
    staging.mkdir(mode=0o700)
    try:
        manifest = check_archive(archive, key, staging, extract=True, identity=identity)
        if allowed is not None:
            allowed(staging / DATABASE)
        _stage_audit_head(staging, key)
        fsync_folder(staging)
        aside = _swap_in(paths, staging, now, current_key)
    finally:
        if not journal_exists(root):
            shutil.rmtree(staging, ignore_errors=True)
    taken = as_utc(datetime.fromisoformat(manifest["created_at"]))
    log.info("Restored the casebook from %s; previous data kept in %s", archive, aside)
    return RestoreResult(archive, aside, taken)


def open_backup_key(keyring: Keyring, name: str, secret: str) -> DataKey:
    """A backup's data key from a user's password of the time, or its recovery key."""
    try:
        return keyring.open_with(name, secret)
    except (WrongKeyError, KeyringDamagedError):
        raise BackupError(
            "The password or recovery key does not open this backup: it must be one that "
            "was in use when the backup was made. Nothing was changed."
        ) from None


def role_in_backup(database: Path, key: DataKey, name: str) -> str | None:
    """The role ``name`` held in a checked backup's database copy, None if not a user then."""
    connection = connect_encrypted(database, key)
    try:
        row = connection.execute(
            "SELECT role FROM users WHERE name_key = ?", (user_key(name),)
        ).fetchone()
    finally:
        connection.close()
    return str(row[0]) if row else None


def _swap_in(paths: DataPaths, staging: Path, now: datetime, current_key: DataKey | None) -> Path:
    root = paths.root
    database = paths.database
    # Fold the write-ahead log into the file so the copy set aside is whole on its own.
    if database.exists() and current_key is not None:
        try:
            connection = connect_encrypted(database, current_key)
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
        except SQLITE_DATABASE_ERRORS:
            log.warning("Could not fold the write-ahead log of the database set aside")
    aside = root / f"before-restore-{_stamp(now)}"
    counter = 1
    while aside.exists():
        counter += 1
        aside = root / f"before-restore-{_stamp(now)}-{counter}"
    audit_head = head_file(root)
    anchor = anchor_file(root)
    current = [paths.blobs, audit_head, anchor, paths.keyring]
    current += [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "")]
    new = [("blobs", paths.blobs.name), (DATABASE, database.name), (KEYRING, paths.keyring.name)]
    if (staging / audit_head.name).exists():
        new.append((audit_head.name, audit_head.name))
    if (staging / anchor.name).exists():
        new.append((anchor.name, anchor.name))
    plan = SwapPlan(
        operation="restore",
        aside=aside.name,
        moves_out=[path.name for path in current if path.exists()],
        moves_in=[(f"{staging.name}/{source}", name) for source, name in new],
        discard=[staging.name],
    )
    run_swap(root, plan)
    return aside


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    local = to_london(moment)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def _stage_audit_head(staging: Path, key: DataKey) -> None:
    """The restored database's newest audit entry, kept outside it as the audit trail does."""
    connection = connect_encrypted(staging / DATABASE, key)
    try:
        row = connection.execute(
            "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    except SQLITE_DATABASE_ERRORS:
        row = None  # a backup from before the audit trail existed
    finally:
        connection.close()
    if row is not None:
        with _private_file(staging / head_file(staging).name) as out:
            out.write(f"{row[0]} {row[1]}\n".encode("ascii"))
            out.flush()
            os.fsync(out.fileno())
    # And the newest head teachers' checkpoint the restored trail holds, beside its keyring.
    connection = connect_encrypted(staging / DATABASE, key)
    try:
        checkpoint = connection.execute(
            "SELECT seq, hash, at, user, key_check, entry_key, mac FROM audit_checkpoints "
            "ORDER BY seq DESC, id DESC LIMIT 1"
        ).fetchone()
    except SQLITE_DATABASE_ERRORS:
        checkpoint = None  # a backup from before the trail was sealed
    finally:
        connection.close()
    if checkpoint is not None:
        write_anchor_row(staging, checkpoint)


def _damaged(archive: Path, what: str) -> BackupError:
    return BackupError(
        f"The backup {archive.name} is damaged ({what}) and cannot be used; nothing was "
        "changed. Choose another backup."
    )


def _not_ours(archive: Path) -> BackupError:
    return BackupError(
        f"The file {archive.name} is not a Conduct Casebook backup; nothing was changed."
    )


def another_casebook(archive: Path) -> BackupError:
    """The one sentence for a backup made of a different casebook than the one here."""
    return BackupError(
        f"The backup {archive.name} was made of another casebook, not the one in this data "
        "folder, so it cannot replace it; nothing was changed."
    )


def _entries(archive: Path, zipped: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Every entry by name, once the names and kinds are ones a backup can hold.

    Names are checked before anything is read or written: only the manifest, the
    database, the key file and ``blobs/xx/<62 hex>``; no absolute paths, ``..``, drive
    letters, backslashes, folders, links or duplicates.
    """
    if MANIFEST not in zipped.NameToInfo:
        raise _not_ours(archive)
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in zipped.infolist():
        name = info.filename
        kind = (info.external_attr >> 16) & 0o170000
        if (
            name in infos
            or not (name in FIXED_ENTRIES or BLOB_ENTRY.fullmatch(name))
            or "\\" in name
            or ".." in name.split("/")
            or name.startswith("/")
            or (len(name) > 1 and name[1] == ":")
            or info.is_dir()
            or kind not in (0, stat.S_IFREG)
        ):
            log.warning("Backup %s holds an entry a backup never has: %r", archive, name[:200])
            raise _damaged(archive, "it holds a file a backup never has")
        infos[name] = info
    return infos


def _read_bounded(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """An entry's bytes, never more than ``limit`` of them (whatever its header claims)."""
    with zipped.open(info) as source:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{info.filename} is larger than {limit} bytes")
    return data


def _read_manifest(
    archive: Path, zipped: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]
) -> dict[str, Any]:
    # A real manifest is a few hundred bytes for each file the backup holds.
    limit = min(MAX_MANIFEST, 64 * 1024 + 1024 * len(infos))
    info = infos[MANIFEST]
    if info.file_size > limit:
        raise _damaged(archive, "its list of contents is far larger than the backup")
    try:
        manifest = json.loads(_read_bounded(zipped, info, limit))
    except (ValueError, RecursionError):
        raise _damaged(archive, "its list of contents is unreadable") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _not_ours(archive)
    return manifest


def _check_format(archive: Path, manifest: dict[str, Any]) -> None:
    version = manifest.get("format_version", 0)
    if not isinstance(version, int):
        raise _not_ours(archive)
    if version > FORMAT_VERSION:
        raise BackupError(
            f"The backup {archive.name} was made by a newer version of Conduct "
            "Casebook; install that version to restore it. Nothing was changed."
        )
    if version < FORMAT_VERSION:
        raise BackupError(
            f"The backup {archive.name} was made by a test version of Conduct "
            "Casebook that did not encrypt its records, and cannot be restored "
            "by this one. Nothing was changed."
        )


def _listed(archive: Path, manifest: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(name, sha256, size) of every file the signed manifest lists, all well formed."""
    listed: list[tuple[str, str, int]] = []
    database, keyring = manifest["database"], manifest["keyring"]
    entries = [(DATABASE, database), (KEYRING, keyring)]
    entries += [(str(entry["name"]), entry) for entry in manifest["blobs"]]
    seen: set[str] = set()
    for name, entry in entries:
        size, digest = entry["size"], entry["sha256"]
        if (
            name in seen
            or not (name in (DATABASE, KEYRING) or BLOB_ENTRY.fullmatch(name))
            or str(entry.get("name", name)) != name
            or not isinstance(size, int)
            or not 0 <= size <= MAX_ENTRY
            or not isinstance(digest, str)
            or not re.fullmatch(r"[0-9a-f]{64}", digest)
        ):
            raise _damaged(archive, "its list of contents is not one a backup has")
        seen.add(name)
        listed.append((name, digest, size))
    if keyring["size"] > MAX_KEYRING:
        raise _damaged(archive, "its key file is far too large")
    return listed


def _check_space(archive: Path, folder: Path, needed: int) -> None:
    """Refuse before writing when the data folder's disk cannot take the whole backup."""
    free = shutil.disk_usage(folder).free
    if needed + SPACE_MARGIN > free:
        raise BackupError(
            f"The backup {archive.name} needs {_megabytes(needed)} of free space in the data "
            f"folder and only {_megabytes(free)} is free; free some space and try again. "
            "Nothing was changed."
        )


def _megabytes(size: int) -> str:
    return f"{max(1, size // 1_000_000):,} MB"


def _copy_bounded(
    archive: Path, source: IO[bytes], target: IO[bytes] | None, size: int
) -> tuple[str, int]:
    """Hash (and copy) an entry, refusing as soon as it passes the size the manifest gives."""
    digest = hashlib.sha256()
    done = 0
    while chunk := source.read(CHUNK):
        done += len(chunk)
        if done > size:
            raise _damaged(archive, "a file in it is larger than its list of contents says")
        digest.update(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest(), done


def _private_file(path: Path) -> IO[bytes]:
    """A new file only this account can read (0600 on POSIX)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return os.fdopen(os.open(path, flags, 0o600), "wb")


def check_archive(
    archive: Path,
    key: DataKey,
    work: Path,
    *,
    extract: bool = False,
    identity: str | None = None,
) -> dict[str, Any]:
    """Check a backup file completely and return its manifest; refuse (BackupError) if not good.

    ``work`` is an empty staging folder inside the data folder: the database copy is
    checked there, and with ``extract`` the keyring and blobs are left there for a
    restore to move into place; nothing is written anywhere else. The manifest must be
    signed with ``key`` and, with ``identity``, name this casebook (a backup of another
    casebook, or one whose list was altered, is refused); entry names, sizes and the free
    space are checked before anything is written, and every entry is re-hashed against
    the manifest while it streams. The database copy must open with the key, pass
    SQLite's integrity check and be a Conduct Casebook schema this version can open.
    """
    if not archive.is_file():
        raise BackupError(f"There is no backup file at {archive}.")
    db_copy = work / DATABASE
    try:
        with zipfile.ZipFile(archive) as zipped:
            infos = _entries(archive, zipped)
            # What the archive says it expands to, against the disk, before anything else.
            written = [info for name, info in infos.items() if extract or name == DATABASE]
            _check_space(archive, work, sum(info.file_size for info in written))
            manifest = _read_manifest(archive, zipped, infos)
            _check_format(archive, manifest)
            if manifest.get("key_check") != key.check_value():
                raise (
                    another_casebook(archive)
                    if identity is not None
                    else BackupError(
                        f"The backup {archive.name} was made of a casebook with another key: "
                        "it is not a backup of this casebook, or it needs a password or "
                        "recovery key of its own time (casebook restore). Nothing was changed."
                    )
                )
            if not hmac.compare_digest(
                str(manifest.get("signature", "")), key.sign(_signed_part(manifest))
            ):
                raise _damaged(archive, "its list of contents has been altered")
            if identity is not None and backup_identity(manifest, key) != identity:
                raise another_casebook(archive)
            listed = _listed(archive, manifest)
            if {name for name, _, _ in listed} | {MANIFEST} != set(infos):
                raise _damaged(archive, "its files do not match its list of contents")
            for name, _, size in listed:
                if infos[name].file_size != size:
                    raise _damaged(archive, "a file in it is not the size its list says")
            for name, digest, size in listed:
                keep = extract or name == DATABASE
                target = work / name
                if keep:
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    if not target.resolve().is_relative_to(work.resolve()):
                        raise _damaged(archive, "it holds a file a backup never has")
                with zipped.open(infos[name]) as source:
                    if not keep:
                        found, done = _copy_bounded(archive, source, None, size)
                    else:
                        with _private_file(target) as out:
                            found, done = _copy_bounded(archive, source, out, size)
                            out.flush()
                            os.fsync(out.fileno())
                if found != digest or done != size:
                    what = {
                        DATABASE: "the database copy does not match its hash",
                        KEYRING: "its key file does not match its hash",
                    }.get(name, "a file of evidence or a letter has changed")
                    raise _damaged(archive, what)
            if extract:
                (work / "blobs").mkdir(exist_ok=True, mode=0o700)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        log.warning("Backup %s could not be read: %s", archive, error)
        raise _damaged(archive, "the file is incomplete or has changed") from error
    except (KeyError, TypeError, AttributeError) as error:
        log.warning("Backup %s has an unexpected manifest: %s", archive, error)
        raise _damaged(archive, "its list of contents is incomplete") from error
    problem = _integrity(db_copy, key)
    if problem != "ok":
        log.warning("Backup %s database failed integrity_check: %s", archive, problem)
        raise _damaged(archive, "the database copy fails its integrity check")
    revision = _revision(db_copy, key)
    if revision is None:
        raise _not_ours(archive)
    if revision not in known_revisions():
        raise BackupError(
            f"The backup {archive.name} was made by a newer version of Conduct Casebook "
            f"than this one; install the newer version to restore it. Nothing was changed."
        )
    return dict(manifest)


def database_library_version() -> str:
    """The version of SQLAlchemy in use, for the About box."""
    import sqlalchemy

    return str(sqlalchemy.__version__)
