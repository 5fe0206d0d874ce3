"""Opening a casebook: the data folder, the database, migrations and the services."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import DataPaths, current_user, prepare_data_dir
from app.db.engine import (
    SQLITE_DATABASE_ERRORS,
    connect_encrypted,
    make_engine,
    make_server_engine,
    make_session_factory,
    migrate,
    migrate_server,
)
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
from app.files import replace_file
from app.security.crypto import DataKey
from app.security.keyring import (
    RECOVERY,
    KeyringDamagedError,
    KeyringFile,
    KeyringStorage,
    KeyringStore,
)
from app.services.audit import AuditService
from app.services.blobs import referenced_blob_hashes
from app.services.context import ServiceContext, load_default_code
from app.services.keys import CasebookKeys, KeyHolder, normalise_recovery_key
from app.services.legacy import (
    finish_interrupted,
    is_plain_casebook,
    is_plain_sqlite,
    plain_tables,
)
from app.services.swap import journal_exists, remove_staging

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.services.backup import BackupService, RestoreResult
    from app.services.cases import CaseService
    from app.services.code import CodeService
    from app.services.evidence import EvidenceService
    from app.services.evidence_reading import EvidenceReading
    from app.services.joined_up import JoinedUpService
    from app.services.letters import LetterService
    from app.services.mail import MailService
    from app.services.operations import Operations
    from app.services.people import PersonService
    from app.services.people_import import PeopleImportService
    from app.services.reminders import ReminderService
    from app.services.reports import ReportService
    from app.services.retention import RetentionService
    from app.services.subject_access import SubjectAccessService
    from app.services.users import UserService
    from app.services.workflow import WorkflowService

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the UI and CLI need, for one open casebook. Passed in, never global.

    Each service is made (and its module imported) the first time it is asked for, and is
    then the same object for the life of the casebook: a command from the command line
    pays only for what it uses (a letter never loads Pillow, the mail or backup code).
    """

    ctx: ServiceContext
    paths: DataPaths
    engine: Engine
    keys: CasebookKeys
    blobs: BlobStorage
    audit: AuditService
    may_migrate: bool = True
    sweep_on_open: bool = True
    database_url: str | None = None
    migration_backup: Path | None = None
    database_open: bool = False

    @cached_property
    def cases(self) -> CaseService:
        """Cases: opening, listing, searching and changing them."""
        from app.services.cases import CaseService

        cases = CaseService(self.ctx)
        cases.after_reseal = self._reseal_case_files
        return cases

    @cached_property
    def people(self) -> PersonService:
        """The people known to the school and their parts in cases."""
        from app.services.people import PersonService

        return PersonService(self.ctx)

    @cached_property
    def evidence(self) -> EvidenceService:
        """Exhibits: intake, copies and their files."""
        from app.services.evidence import EvidenceService

        return EvidenceService(self.ctx, self.blobs)

    @cached_property
    def letters(self) -> LetterService:
        """Letters, templates and the school profile."""
        from app.services.letters import LetterService

        return LetterService(self.ctx, self.blobs, self.cases, self.code)

    @cached_property
    def workflow(self) -> WorkflowService:
        """Checklists, follow-ups, escalation and outcomes."""
        from app.services.workflow import WorkflowService

        return WorkflowService(self.ctx, self.evidence, self.cases)

    @cached_property
    def reports(self) -> ReportService:
        """Reports and the case file (bundle)."""
        from app.services.reports import ReportService

        return ReportService(self.ctx, self.cases, self.evidence, self.letters, self.workflow)

    @cached_property
    def users(self) -> UserService:
        """Users, sign-in and roles."""
        from app.services.users import UserService

        users = UserService(self.ctx, self.keys, self.open_database, self.audit)
        users.seal_files = self._reseal_all_files
        return users

    @cached_property
    def backups(self) -> BackupService:
        """Backups of the casebook."""
        from app.services.backup import BackupService

        store = self.blobs if isinstance(self.blobs, BlobStore) else None
        return BackupService(self.ctx, self.paths, store, self.engine, self.keys.holder.get)

    @cached_property
    def retention(self) -> RetentionService:
        """How long records are kept, and their disposal."""
        from app.services.retention import RetentionService

        return RetentionService(self.ctx, self.blobs, self.evidence, self.letters)

    @cached_property
    def subject_access(self) -> SubjectAccessService:
        """Subject access requests."""
        from app.services.subject_access import SubjectAccessService

        return SubjectAccessService(self.ctx, self.evidence, self.letters, self.retention)

    @cached_property
    def mail(self) -> MailService:
        """Letters sent by email."""
        from app.services.mail import MailService

        return MailService(self.ctx, self.blobs, self.letters, self.people, self.keys.holder.get)

    @cached_property
    def reminders(self) -> ReminderService:
        """Reminders of actions falling due."""
        from app.services.reminders import ReminderService

        return ReminderService(self.ctx, self.mail)

    @cached_property
    def code(self) -> CodeService:
        """The versions of the Code of Conduct (opening the casebook needs them, not the
        letters: those import Jinja and the templates, a tenth of the window's start)."""
        from app.services.code import CodeService

        return CodeService(self.ctx)

    @cached_property
    def people_import(self) -> PeopleImportService:
        """Importing people from the school's MIS."""
        from app.services.people_import import PeopleImportService

        return PeopleImportService(self.ctx)

    @cached_property
    def joined_up(self) -> JoinedUpService:
        """Cases joined up by the people in them."""
        from app.services.joined_up import JoinedUpService

        return JoinedUpService(self.ctx)

    def _reseal_case_files(self, case_id: int) -> int:
        from app.services.sealed_files import reseal_files

        return reseal_files(self.ctx, self.blobs, case_id)

    def _reseal_all_files(self) -> int:
        from app.services.sealed_files import reseal_files

        return reseal_files(self.ctx, self.blobs)

    @property
    def reading(self) -> EvidenceReading:
        """The words in exhibits, names to protect, and capture details."""
        from app.services.evidence_reading import EvidenceReading

        return EvidenceReading(self.ctx, self.evidence.store, self.evidence.content)

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
        self.code.refresh()  # the version of the Code in force today
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
            referenced = referenced_blob_hashes(session)  # the school profile's images too
        return self.blobs.sweep(referenced, written_before)

    def describe_records(self) -> str:
        """Where the records are kept, in one line for the About box."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite":
            return f"Records: {self.paths.database}"
        return f"Records: shared database {url.database} on {url.host}"

    @property
    def operations(self) -> Operations:
        """Every user action as one command (what the window and the CLI call)."""
        from app.services.operations import Operations

        return Operations(self)

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
            replace_file(path, aside / path.name)
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
        if may_migrate:
            _tidy_after_interruption(paths)
        elif journal_exists(paths.root):
            raise DataDirectoryError(
                f"A restore or encryption of the casebook in {paths.root} is being finished; "
                "try again in a moment."
            )
    holder = KeyHolder()
    storage: KeyringStorage
    if database_url:
        engine = make_server_engine(database_url)
        try:
            migrate_server(engine, may_change=may_migrate)
        except BaseException:
            engine.dispose()
            raise
        from app.db.keyring_table import KeyringTable

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
    blobs: BlobStorage
    if database_url:
        from app.services.blobs import DatabaseBlobStore

        blobs = DatabaseBlobStore(ctx, holder.get, holder)
    else:
        blobs = BlobStore(paths.blobs, holder.get, holder)
    services = Services(
        ctx=ctx,
        paths=paths,
        engine=engine,
        keys=keys,
        blobs=blobs,
        audit=audit,
        may_migrate=may_migrate,
        sweep_on_open=sweep,
        database_url=database_url,
    )
    if holder.key is not None:
        try:
            services.open_database()
        except BaseException:
            engine.dispose()
            raise
    return services


def _tidy_after_interruption(paths: DataPaths) -> None:
    """Finish a swap a power cut interrupted, remove staging left by a killed backup or
    restore, and keep the data folder private to this account (0700/0600 on POSIX)."""
    finish_interrupted(paths)
    remove_staging(paths.root)
    make_private(paths.root)


def make_private(root: Path) -> None:
    """Only this account may open the data folder and its top-level files (POSIX modes).

    On Windows the per-user application-data folder's ACL already admits only the user,
    SYSTEM and Administrators; a folder chosen elsewhere keeps the ACL it was given.
    """
    if os.name != "posix":
        return
    try:
        root.chmod(0o700)
        for path in root.iterdir():
            if path.is_symlink():
                continue
            path.chmod(0o700 if path.is_dir() else 0o600)
    except OSError:
        log.warning("Could not make the data folder %s private", root, exc_info=True)


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

    Over an existing casebook the head teacher of that casebook *now* signs in (password,
    or its recovery key) and only a backup of this casebook is taken: same identity, same
    key. Into an empty data folder (a new PC) the backup's own keyring is opened with a
    password of its time (``name`` must have been the head teacher then) or its recovery
    key. When the key file here is lost or damaged, the backup's own head teacher may
    restore it only if the backup's key opens the database here. Nothing is changed until
    the whole backup has been checked; the restore is then written into the audit trail.
    The caller holds the data folder's lock.
    """
    from app.services.backup import (
        another_casebook,
        backup_keyring,
        casebook_identity,
        open_backup_key,
        restore_backup,
        role_in_backup,
    )

    paths = prepare_data_dir(data_dir)
    _tidy_after_interruption(paths)
    now = utc_now()
    store = KeyringStore(KeyringFile(paths.keyring))
    try:
        current = store.load()
    except KeyringDamagedError:  # a damaged current keyring is a reason to restore
        log.warning("The current keyring could not be read before a restore", exc_info=True)
        current = None
    has_database = paths.database.exists() and paths.database.stat().st_size > 0
    if current is not None and current.wraps:
        keys = CasebookKeys(store, KeyHolder())
        if with_recovery_key:
            key = keys.open_with_recovery_key(secret)
        else:
            key = keys.open_with_password(name, secret, now)
        identity = casebook_identity(current, key, paths.keyring)

        def head_now(database: Path) -> None:
            if with_recovery_key:
                return
            if current.head_check:
                # The keyring proves who is head: only a head's entry holds the safeguarding
                # key, sealed to their password. The users table is not proof: anyone with
                # the data key (office staff too) could edit a role there.
                opened = keys.opened
                if opened is None or opened.head_key is None:
                    raise SignInError(
                        f"{name} is not the head teacher of this casebook, so cannot restore "
                        "it. Nothing was changed."
                    )
                return
            # A casebook from before the safeguarding key: the role as recorded.
            try:  # the role in the current database; the backup's if that one is damaged
                role = role_in_backup(paths.database, key, name)
            except SQLITE_DATABASE_ERRORS:
                role = role_in_backup(database, key, name)
            if role != Role.HEAD.value:
                raise SignInError(
                    f"{name} is not the head teacher of this casebook, so cannot restore it. "
                    "Nothing was changed."
                )

        result = restore_backup(
            paths, archive, key, now, current_key=key, allowed=head_now, identity=identity
        )
    else:
        keyring = backup_keyring(archive)
        if with_recovery_key:
            key = open_backup_key(keyring, RECOVERY, normalise_recovery_key(secret))
        else:
            key = open_backup_key(keyring, name, secret)
        # A database whose key file is lost: only a backup whose key opens it. (A set-up
        # that never made its first user holds nothing anyone can open.)
        if has_database and current is None and not _opens(paths.database, key):
            raise another_casebook(archive)

        def head_then(database: Path) -> None:
            if not with_recovery_key and role_in_backup(database, key, name) != Role.HEAD.value:
                raise SignInError(
                    f"{name} was not the head teacher when the backup was made, so cannot "
                    "restore it. Nothing was changed."
                )

        result = restore_backup(paths, archive, key, now, allowed=head_then)
    services = open_casebook(data_dir, key=key)
    try:
        services.ctx.actor = "head (recovery key)" if with_recovery_key else name
        services.ctx.audit(
            "restore", archive.name, f"previous data kept in {result.set_aside.name}"
        )
    finally:
        services.close()
    return result


def _opens(database: Path, key: DataKey) -> bool:
    """True when ``key`` is the key of the database file (its first page decrypts)."""
    try:
        connection = connect_encrypted(database, key)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except SQLITE_DATABASE_ERRORS:
        return False
    return True
