"""Opening a casebook: the data folder, the database, migrations and the services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from app.config import DataPaths, current_user, prepare_data_dir
from app.db.engine import (
    make_engine,
    make_server_engine,
    make_session_factory,
    migrate,
    migrate_server,
)
from app.db.keyring_table import KeyringTable
from app.db.sealing import attach_keys, install_sealing
from app.domain.access import Role
from app.domain.dates import utc_now
from app.domain.errors import (
    DataDirectoryError,
    KeyFileError,
    SignInError,
    UnencryptedCasebookError,
)
from app.evidence.blobstore import BlobStorage, BlobStore
from app.security.crypto import DataKey
from app.security.keyring import (
    RECOVERY,
    KeyringDamagedError,
    KeyringFile,
    KeyringStorage,
    KeyringStore,
)
from app.services.audit import AuditService
from app.services.backup import (
    BackupService,
    RestoreResult,
    backup_keyring,
    open_backup_key,
    restore_backup,
    role_in_backup,
)
from app.services.blobs import DatabaseBlobStore
from app.services.cases import CaseService
from app.services.context import ServiceContext, load_default_code
from app.services.evidence import EvidenceService, referenced_blob_hashes
from app.services.keys import CasebookKeys, KeyHolder, normalise_recovery_key
from app.services.legacy import (
    finish_interrupted,
    is_plain_casebook,
    is_plain_sqlite,
    plain_tables,
)
from app.services.letters import LetterService
from app.services.people import PersonService
from app.services.reports import ReportService
from app.services.retention import RetentionService
from app.services.sealed_files import reseal_files
from app.services.users import UserService
from app.services.workflow import WorkflowService

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the UI and CLI need, for one open casebook. Passed in, never global."""

    ctx: ServiceContext
    paths: DataPaths
    engine: Engine
    cases: CaseService
    people: PersonService
    evidence: EvidenceService
    letters: LetterService
    workflow: WorkflowService
    reports: ReportService
    users: UserService
    audit: AuditService
    backups: BackupService
    retention: RetentionService
    keys: CasebookKeys
    may_migrate: bool = True
    sweep_on_open: bool = True
    database_url: str | None = None
    migration_backup: Path | None = None
    database_open: bool = False

    @property
    def data_key(self) -> DataKey | None:
        """The open data key (None until someone signs in)."""
        return self.keys.holder.key

    def open_database(self) -> None:
        """Once the data key is open: bring the schema up to date and tidy the store."""
        if self.database_open:
            return
        key = self.keys.holder.key
        assert key is not None
        if self.database_url is None:
            self.migration_backup = migrate(
                self.engine,
                self.paths.database,
                self.paths.backups,
                key,
                may_change=self.may_migrate,
            )
        self.database_open = True
        if self.may_migrate and self.sweep_on_open:
            # Only the process holding the data folder may tidy the store: another
            # process's import in progress would otherwise lose its temporary files. The
            # window passes sweep=False and tidies on a worker once it is showing.
            self.sweep_blobs()

    def sweep_blobs(self, written_before: float | None = None) -> list[str]:
        """Remove crash leftovers and blobs no record refers to (evidence, letters, profile).

        Only the process holding the data folder's lock may call this: another process's
        write in progress would otherwise lose its new blob before its row is committed.
        While this process may itself be writing (the window's background sweep), pass
        ``written_before`` (when it started) so that its own imports are left alone.
        """
        with self.ctx.sessions() as session:
            referenced = referenced_blob_hashes(session)
        referenced |= self.letters.referenced_blobs()
        return self.evidence.store.sweep(referenced, written_before)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def _set_aside_unfinished(paths: DataPaths, now: datetime) -> None:
    """Move away what a set-up that never created its first user left behind.

    Without a user nobody can ever open its key, so what it wrote cannot be read; it is
    moved aside rather than deleted, and a fresh casebook is started in its place.
    """
    aside = paths.root / f"unfinished-setup-{now.strftime('%Y%m%d-%H%M%S')}"
    aside.mkdir(exist_ok=True)
    database = paths.database
    moved = [database, database.with_name(database.name + "-wal"), paths.blobs, paths.keyring]
    moved.append(database.with_name(database.name + "-shm"))
    for path in moved:
        if path.exists():
            path.replace(aside / path.name)
    paths.blobs.mkdir(exist_ok=True)
    log.warning("Set aside an unfinished set-up in %s", aside)


def open_casebook(
    data_dir: Path,
    *,
    actor: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    may_migrate: bool = True,
    database_url: str | None = None,
    sweep: bool = True,
    key: DataKey | None = None,
) -> Services:
    """Open the casebook in ``data_dir``, creating a new one when the folder is empty.

    An existing casebook stays shut until someone signs in (``services.users.sign_in``):
    the password opens the data key, and only then is the database opened, migrated and
    tidied. A new casebook gets a new data key at once and is open for set-up
    (``services.users.create_first_user``). ``key`` opens an existing casebook directly
    (the restore drill and tests reopen a folder they have just made).

    ``may_migrate=False`` is for a process that does not hold the data folder's lock:
    it may read and write an up-to-date database but must not change its schema.
    ``database_url`` (PostgreSQL) puts the records and their files on a server that
    several PCs share; the data folder then keeps only this PC's log and lock.
    """
    paths = prepare_data_dir(data_dir)
    if not database_url:
        finish_interrupted(paths)
    holder = KeyHolder()
    storage: KeyringStorage
    if database_url:
        engine = make_server_engine(database_url)
        try:
            migrate_server(engine, may_change=may_migrate)
        except BaseException:
            engine.dispose()
            raise
        storage = KeyringTable(engine)
    else:
        engine = make_engine(paths.database, holder.get)
        storage = KeyringFile(paths.keyring)
    keys = CasebookKeys(KeyringStore(storage), holder)
    try:
        keyring = keys.load()
        if keyring is not None and not keyring.wraps and key is None:
            if database_url:
                raise DataDirectoryError(
                    "The shared casebook on the database server was never finished setting "
                    "up (no user was created, so its key was lost); ask whoever looks after "
                    "the server to empty that database, then set the casebook up again."
                )
            _set_aside_unfinished(paths, clock())
            keyring = None
        if keyring is None:
            if not database_url and paths.database.exists() and paths.database.stat().st_size:
                raise _no_keyring(paths)
            keys.create(key or DataKey.new())
        elif key is not None:
            if key.check_value() != keyring.check:
                raise DataDirectoryError(
                    f"The key given does not belong to the casebook in {paths.root}."
                )
            holder.key = key
    except BaseException:
        engine.dispose()
        raise
    attach_keys(engine, holder)
    if keyring is not None:
        holder.head_public = keyring.head_public_key()
    sessions = make_session_factory(engine)
    install_sealing(sessions)
    ctx = ServiceContext(
        sessions=sessions,
        actor=actor or current_user(),
        code=load_default_code(),
        data_dir=paths.root,
        clock=clock,
    )
    audit = AuditService(ctx)
    ctx.audit_sink = audit.record
    cases = CaseService(ctx)
    blobs: BlobStorage = (
        DatabaseBlobStore(ctx, holder.get, holder)
        if database_url
        else BlobStore(paths.blobs, holder.get, holder)
    )
    evidence = EvidenceService(ctx, blobs)
    letters = LetterService(ctx, blobs, cases)
    workflow = WorkflowService(ctx, evidence)
    services = Services(
        ctx=ctx,
        paths=paths,
        engine=engine,
        cases=cases,
        people=PersonService(ctx),
        evidence=evidence,
        letters=letters,
        workflow=workflow,
        reports=ReportService(ctx, cases, evidence, letters, workflow),
        users=UserService(ctx, keys, lambda: services.open_database()),
        audit=audit,
        backups=BackupService(
            ctx, paths, blobs if isinstance(blobs, BlobStore) else None, engine, holder.get
        ),
        retention=RetentionService(ctx, blobs, evidence, letters),
        keys=keys,
        may_migrate=may_migrate,
        sweep_on_open=sweep,
        database_url=database_url,
    )
    cases.after_reseal = lambda case_id: reseal_files(ctx, blobs, case_id)
    services.users.seal_files = lambda: reseal_files(ctx, blobs)
    if holder.key is not None:
        try:
            services.open_database()
        except BaseException:
            engine.dispose()
            raise
    return services


def _no_keyring(paths: DataPaths) -> DataDirectoryError:
    database = paths.database
    if is_plain_sqlite(database):
        if is_plain_casebook(paths):
            return UnencryptedCasebookError(
                f"The casebook in {paths.root} was made before records were encrypted; the "
                "head teacher must encrypt it once: open Conduct Casebook, or run "
                "'casebook encrypt'. Nothing has been changed."
            )
        if "alembic_version" not in plain_tables(database):
            return DataDirectoryError(
                f"The file {database} is not a Conduct Casebook database; it has not been changed."
            )
    return KeyFileError(
        f"The file {database} cannot be opened: the casebook's key file "
        f"{paths.keyring.name} is not beside it (or the file is not a Conduct Casebook "
        "database); restore the data folder from the school's backup. Nothing has been changed."
    )


def restore_casebook(
    data_dir: Path,
    archive: Path,
    name: str,
    secret: str,
    *,
    with_recovery_key: bool = False,
) -> RestoreResult:
    """Restore a backup without opening the current casebook (it may be what is damaged).

    The backup's own keyring is opened with a password of its time (``name`` must have
    been the head teacher then) or its recovery key. Nothing is changed until the whole
    backup has been checked; the restore is then written into the restored audit trail.
    The caller holds the data folder's lock.
    """
    keyring = backup_keyring(archive)
    if with_recovery_key:
        key = open_backup_key(keyring, RECOVERY, normalise_recovery_key(secret))
    else:
        key = open_backup_key(keyring, name, secret)

    def allowed(database: Path) -> None:
        if not with_recovery_key and role_in_backup(database, key, name) != Role.HEAD.value:
            raise SignInError(
                f"{name} was not the head teacher when the backup was made, so cannot restore "
                "it. Nothing was changed."
            )

    paths = prepare_data_dir(data_dir)
    try:
        current = KeyringStore(KeyringFile(paths.keyring)).load()
    except KeyringDamagedError:  # a damaged current keyring is a reason to restore
        log.warning("The current keyring could not be read before a restore", exc_info=True)
        current = None
    same_key = current is not None and current.check == key.check_value()
    result = restore_backup(
        paths, archive, key, utc_now(), current_key=key if same_key else None, allowed=allowed
    )
    services = open_casebook(data_dir, key=key)
    try:
        services.ctx.actor = "head (recovery key)" if with_recovery_key else name
        services.ctx.audit(
            "restore", archive.name, f"previous data kept in {result.set_aside.name}"
        )
    finally:
        services.close()
    return result
