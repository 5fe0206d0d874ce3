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
import json
import logging
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine

from app import __version__
from app.config import DataPaths
from app.db.engine import SQLITE_DATABASE_ERRORS, connect_encrypted, known_revisions
from app.db.models import SettingRecord
from app.domain.access import Permission
from app.domain.dates import as_utc, format_date_time, to_london
from app.domain.errors import BackupError, ValidationError
from app.evidence.blobstore import BlobStore
from app.security.crypto import DataKey, WrongKeyError
from app.security.keyring import FILE_NAME as KEYRING
from app.security.keyring import Keyring, KeyringDamagedError, user_key
from app.services.audit import anchor_file, head_file, write_anchor_row
from app.services.context import ServiceContext

log = logging.getLogger(__name__)

FORMAT = "conduct-casebook-backup"
FORMAT_VERSION = 2  # 2: encrypted database and blobs, keyring, signed manifest
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
    not_ours = BackupError(
        f"The file {archive.name} is not a Conduct Casebook backup; nothing was changed."
    )
    if not archive.is_file():
        raise BackupError(f"There is no backup file at {archive}.")
    try:
        with zipfile.ZipFile(archive) as zipped:
            if MANIFEST not in zipped.namelist():
                raise not_ours
            manifest = json.loads(zipped.read(MANIFEST))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise not_ours
            if manifest.get("format_version", 0) != FORMAT_VERSION:
                raise BackupError(
                    f"The backup {archive.name} was made by another version of Conduct "
                    "Casebook and cannot be restored by this one. Nothing was changed."
                )
            return Keyring.parse(zipped.read(KEYRING))
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, KeyringDamagedError) as error:
        log.warning("Backup %s keyring could not be read: %s", archive, error)
        raise _damaged(archive, "its key file is unreadable") from error


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
            check_archive(partial, self.key)
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
                keyring = self.paths.keyring.read_bytes()
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

    def restore(self, archive: Path) -> RestoreResult:
        """Replace the casebook with a checked backup of it; the current data is kept aside.

        The backup must hold this casebook's key (any backup of it does). The caller must
        hold the data folder's lock. Afterwards this Services object is closed: open the
        casebook again to use the restored data.
        """
        self.ctx.require(Permission.BACKUP, action="restore", detail=str(archive))
        self._refuse_server()
        key = self.key
        self.engine.dispose()
        return restore_backup(self.paths, archive, key, self.ctx.now(), current_key=key)


def restore_backup(
    paths: DataPaths,
    archive: Path,
    key: DataKey,
    now: datetime,
    *,
    current_key: DataKey | None = None,
    allowed: Callable[[Path], None] | None = None,
) -> RestoreResult:
    """Check ``archive`` with its data key, then swap it in; the current data is kept aside.

    ``key`` has been opened from the backup's own keyring (a password or recovery key of
    the time), or is the open key of the same casebook. Nothing in the data folder is
    touched until the whole backup has been extracted and checked. ``current_key`` (when
    the current database can be opened) folds its write-ahead log in first, so the copy
    kept aside is whole on its own. ``allowed`` is shown the checked database copy before
    anything is swapped, and refuses by raising (the restoring user's role in the backup).
    """
    root = paths.root
    staging = root / f".restore-{_stamp(now)}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        manifest = check_archive(archive, key, extract_to=staging)
        if allowed is not None:
            allowed(staging / DATABASE)
        aside = _swap_in(paths, staging, now, current_key)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _write_audit_head(paths, key)
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
    aside.mkdir()
    audit_head = head_file(root)
    for path in (paths.blobs, audit_head, anchor_file(root), paths.keyring):
        if path.exists():
            os.replace(path, aside / path.name)
    os.replace(staging / "blobs", paths.blobs)
    for suffix in ("-wal", "-shm"):
        extra = database.with_name(database.name + suffix)
        if extra.exists():
            os.replace(extra, aside / extra.name)
    if database.exists():
        os.replace(database, aside / database.name)
    os.replace(staging / DATABASE, database)
    os.replace(staging / KEYRING, paths.keyring)
    _fsync_dir(aside)
    _fsync_dir(root)
    return aside


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    local = to_london(moment)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def _write_audit_head(paths: DataPaths, key: DataKey) -> None:
    """Record the restored database's newest audit entry outside it, as the audit trail does."""
    connection = connect_encrypted(paths.database, key)
    try:
        row = connection.execute(
            "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    except SQLITE_DATABASE_ERRORS:
        row = None  # a backup from before the audit trail existed
    finally:
        connection.close()
    if row is not None:
        head_file(paths.root).write_text(f"{row[0]} {row[1]}\n", encoding="ascii")
    # And the newest head teachers' checkpoint the restored trail holds, beside its keyring.
    connection = connect_encrypted(paths.database, key)
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
        write_anchor_row(paths.root, checkpoint)


def _damaged(archive: Path, what: str) -> BackupError:
    return BackupError(
        f"The backup {archive.name} is damaged ({what}) and cannot be used; nothing was "
        "changed. Choose another backup."
    )


def check_archive(archive: Path, key: DataKey, extract_to: Path | None = None) -> dict[str, Any]:
    """Check a backup file completely and return its manifest; refuse (BackupError) if not good.

    The manifest must be signed with ``key`` (a backup of another casebook, or one whose
    list was altered, is refused), every entry is re-hashed against it, and the database
    copy must open with the key, pass SQLite's integrity check and be a Conduct Casebook
    schema this version can open. With ``extract_to``, the database, keyring and blobs are
    left there for a restore to move into place.
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
                if manifest.get("format_version", 0) < FORMAT_VERSION:
                    raise BackupError(
                        f"The backup {archive.name} was made by a test version of Conduct "
                        "Casebook that did not encrypt its records, and cannot be restored "
                        "by this one. Nothing was changed."
                    )
                if manifest.get("key_check") != key.check_value():
                    raise BackupError(
                        f"The backup {archive.name} was made of a casebook with another key: "
                        "it is not a backup of this casebook, or it needs a password or "
                        "recovery key of its own time (casebook restore). Nothing was changed."
                    )
                if manifest.get("signature") != key.sign(_signed_part(manifest)):
                    raise _damaged(archive, "its list of contents has been altered")
                database = manifest["database"]
                db_copy = work / DATABASE
                with zipped.open(DATABASE) as source, open(db_copy, "wb") as out:
                    digest, size = _copy_hashing(source, out)
                    out.flush()
                    os.fsync(out.fileno())
                if digest != database["sha256"] or size != database["size"]:
                    raise _damaged(archive, "the database copy does not match its hash")
                keyring_entry = manifest["keyring"]
                keyring = zipped.read(KEYRING)
                if (
                    hashlib.sha256(keyring).hexdigest() != keyring_entry["sha256"]
                    or len(keyring) != keyring_entry["size"]
                ):
                    raise _damaged(archive, "its key file does not match its hash")
                if extract_to is not None:
                    (work / KEYRING).write_bytes(keyring)
                listed = {MANIFEST, DATABASE, KEYRING}
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
                    if digest != entry["sha256"] or size != entry["size"]:
                        raise _damaged(archive, "a file of evidence or a letter has changed")
                if extract_to is not None:
                    (work / "blobs").mkdir(exist_ok=True)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
            log.warning("Backup %s could not be read: %s", archive, error)
            raise _damaged(archive, "the file is incomplete or has changed") from error
        except (KeyError, TypeError) as error:
            log.warning("Backup %s has an unexpected manifest: %s", archive, error)
            raise _damaged(archive, "its list of contents is incomplete") from error
        problem = _integrity(db_copy, key)
        if problem != "ok":
            log.warning("Backup %s database failed integrity_check: %s", archive, problem)
            raise _damaged(archive, "the database copy fails its integrity check")
        revision = _revision(db_copy, key)
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
