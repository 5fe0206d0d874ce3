"""Opening the database: connection settings, migrations and the pre-migration backup."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from app.db.schema_record import recorded_schema
from app.domain.dates import format_date_time
from app.domain.errors import (
    DatabaseDamagedError,
    DatabaseTooNewError,
    DataDirectoryError,
    DataDirectoryInUseError,
    SignInError,
)
from app.security.crypto import DataKey

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")

# The newest revision in migrations/versions. Checked against Alembic by the tests; it lets
# an up-to-date casebook open without importing Alembic (a tenth of a second at start-up).
SCHEMA_HEAD = "0029_postgres_split_word_starts"


# Errors of the standard sqlite3 module and of SQLCipher's build of it, caught together.
SQLITE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, sqlcipher.Error)
SQLITE_DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.DatabaseError,
    sqlcipher.DatabaseError,
)
SQLITE_OPERATIONAL_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,
    sqlcipher.OperationalError,
)

KeySource = Callable[[], DataKey | None]


def connect_encrypted(db_path: Path, key: DataKey) -> Any:
    """A SQLCipher connection to the casebook's database file, its key already given.

    Nothing decrypted is written to disk: temporary tables and sorts stay in memory, and
    SQLCipher's own log (which writes to the console) is silenced; failures reach us as
    exceptions.
    """
    # The pool hands connections to worker threads (thumbnails, backups), one at a time,
    # as SQLAlchemy's own SQLite set-up allows.
    connection = sqlcipher.connect(str(db_path), check_same_thread=False)
    connection.execute("PRAGMA cipher_log_level = NONE")
    connection.execute(f"PRAGMA key = {key.sqlcipher_key()}")
    connection.execute("PRAGMA temp_store = MEMORY")
    return connection


# Every page SQLCipher reads from disk is authenticated and decrypted (about 0.5 GB/s here),
# where plain SQLite copied it from the system's file cache; a search scanning the cases of
# a large casebook paid that on every keystroke. Decrypted pages are kept in the
# connection's own cache instead, up to this many KiB (it fills only as far as the file is
# read: a school's few hundred cases take a few MB). Pages stay in this process's memory
# only, which already holds the key; nothing decrypted is written out.
PAGE_CACHE_KIB = 65536


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten rows are zeroed, so words of a record sealed later do not stay
    # readable in free space with the data key alone.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
    cursor.close()


def make_engine(db_path: Path, key: KeySource) -> Engine:
    """An engine on the encrypted SQLite file: WAL, full sync and foreign keys on every
    connection. ``key`` is asked for the data key each time a connection opens; until
    someone has signed in it has none, and the database stays shut.
    """

    def connect() -> Any:
        data_key = key()
        if data_key is None:
            raise SignInError("Sign in first to open the casebook.")
        return connect_encrypted(db_path, data_key)

    # Last in, first out: the GUI thread keeps getting the connection whose page cache is
    # warm, rather than taking turns with the ones worker threads opened (each a cache).
    engine = create_engine(
        f"sqlite:///{db_path}",
        future=True,
        module=sqlcipher,
        creator=connect,
        # A logged failure must not carry names and notes into the plain-text log file.
        hide_parameters=True,
        pool_use_lifo=True,
    )
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def make_server_engine(url: str) -> Engine:
    """An engine on a database server (PostgreSQL) shared by several PCs."""
    try:
        engine = create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)
    except (ArgumentError, ImportError) as error:
        raise DataDirectoryError(
            "The database address is not one Conduct Casebook can use; it should look like "
            "postgresql+psycopg://user:password@server/casebook."
        ) from error
    if engine.dialect.name != "postgresql":
        engine.dispose()
        raise DataDirectoryError(
            "Only PostgreSQL can hold a shared casebook; the address should start with "
            "postgresql+psycopg://."
        )
    event.listen(engine, "connect", _set_server_settings)
    return engine


def _set_server_settings(dbapi_connection: Any, _record: Any) -> None:
    """Settings for the window's queries, which are small and index-served:

    - no parallel workers: starting them cost 20-40 ms a query (more than the query) on a
      busy server that several PCs share;
    - a walk through the cases that stops after a page or a bounded count (a common search
      word) starts at the first case, not wherever another session's scan had got to: at
      a million cases that made the same count take 10 ms or 800 ms, by where it began.
    """
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET inside a transaction ends with it
    try:
        dbapi_connection.execute(
            "SET max_parallel_workers_per_gather = 0; SET synchronize_seqscans = off"
        )
    finally:
        dbapi_connection.autocommit = autocommit


def _server_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except ProgrammingError:
        return None  # a new, empty database
    except OperationalError as error:
        log.exception("Could not reach the database server")
        raise DataDirectoryError(
            "The shared casebook's database server cannot be reached; check the network and "
            "the database address, then try again."
        ) from error


def migrate_server(engine: Engine, *, may_change: bool = True) -> None:
    """Bring a server database up to date; one PC at a time, the others wait their turn."""
    if _server_revision(engine) == SCHEMA_HEAD:
        return  # the usual case, answered without importing Alembic (a tenth of a second)
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        with engine.begin() as connection:
            # Any fixed number: every copy of the app waits on the same lock.
            connection.execute(text("SELECT pg_advisory_xact_lock(8008)"))
            current = MigrationContext.configure(connection).get_current_revision()
            if current == SCHEMA_HEAD:
                return
            script = ScriptDirectory.from_config(_alembic_config())
            known = {rev.revision for rev in script.walk_revisions()}
            if current is not None and current not in known:
                raise DatabaseTooNewError(
                    "The shared casebook was written by a newer version of Conduct Casebook; "
                    "please install the newer version on this PC. Nothing has been changed."
                )
            if not may_change:
                raise DataDirectoryInUseError(
                    "The shared casebook needs updating; open Conduct Casebook normally to "
                    "update it."
                )
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            log.info("Migrated the shared database from %s to %s", current, SCHEMA_HEAD)
    except OperationalError as error:
        log.exception("Could not reach the database server")
        raise DataDirectoryError(
            "The shared casebook's database server cannot be reached; check the network and "
            "the database address, then try again."
        ) from error


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, so DTOs can be built afterwards."""
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this version of the app knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every schema revision this version of the app can open (older ones are migrated)."""
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, or None for an empty file."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def needs_migration(engine: Engine) -> bool:
    """True when the database is not at this app's newest revision."""
    return current_revision(engine) != head_revision()


def _backup_before_migration(db_path: Path, backups_dir: Path, revision: str, key: DataKey) -> Path:
    backups_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = backups_dir / f"casebook-before-migration-{revision}-{stamp}.sqlite3"
    # The backup API gives a consistent copy even with a WAL file beside the database;
    # the copy is encrypted under the same key.
    source = connect_encrypted(db_path, key)
    try:
        dest = connect_encrypted(target, key)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    log.info("Copied the database to %s before migrating", target)
    return target


def latest_backup(data_dir: Path) -> Path | None:
    """The newest copy of the database in the data folder's backups folder, if any."""
    folder = data_dir / "backups"
    if not folder.is_dir():
        return None
    copies = [p for p in folder.iterdir() if p.is_file() and p.suffix in (".sqlite3", ".db")]
    return max(copies, key=lambda p: p.stat().st_mtime, default=None)


def damaged_database(data_dir: Path, database: Path) -> DatabaseDamagedError:
    """The refusal for a damaged database file, naming the latest backup to restore."""
    backup = latest_backup(data_dir)
    if backup is None:
        forward = (
            "restore the data folder from the school's backup, or contact support; "
            "the damaged file has been left as it is."
        )
    else:
        taken = datetime.fromtimestamp(backup.stat().st_mtime, UTC)
        forward = (
            f"the latest backup is {backup.name} ({format_date_time(taken)}): close "
            f"Conduct Casebook and copy it over {database.name} to restore it; "
            "the damaged file has been left as it is."
        )
    return DatabaseDamagedError(f"The database file {database} is damaged; {forward}")


def _peek(db_path: Path, key: DataKey) -> tuple[str | None, bool]:
    """The recorded revision and whether any table exists, read without changing the file.

    The engine's connections switch the file to WAL mode, which rewrites its header; a file
    that turns out to be someone else's, or from a newer app, must be left exactly as found.
    """
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None, False
    # A plain connection only reads here; unlike mode=ro it tidies away the -wal and -shm
    # files of a WAL database when it closes.
    connection = connect_encrypted(db_path, key)
    try:
        names = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "alembic_version" not in names:
            return None, bool(names)
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return (row[0] if row else None), True
    finally:
        connection.close()


def migrate(
    engine: Engine, db_path: Path, backups_dir: Path, key: DataKey, *, may_change: bool = True
) -> Path | None:
    """Bring the schema up to date; back up first; refuse a database from a newer app.

    Returns the path of the backup taken, or None when nothing needed doing or the
    database was new.
    """
    try:
        current, has_tables = _peek(db_path, key)
    except SQLITE_OPERATIONAL_ERRORS:
        raise  # a full or read-only disk, not a damaged file: the edge explains it
    except SQLITE_DATABASE_ERRORS as error:
        log.exception("Could not read the database at %s", db_path)
        raise damaged_database(backups_dir.parent, db_path) from error
    if current == SCHEMA_HEAD:
        return None
    if current is None and not has_tables and may_change:
        statements = recorded_schema(SCHEMA_HEAD)  # only ever in the test suite
        if statements is not None:
            with engine.begin() as connection:
                # The driver opens no transaction for CREATE statements: without this each
                # of them would commit, and wait for the disk, on its own.
                connection.exec_driver_sql("BEGIN")
                for statement in statements:
                    connection.exec_driver_sql(statement)
            return None
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise DatabaseTooNewError(
            f"The database in {db_path.parent} was written by a newer version of Conduct "
            "Casebook; please install the newer version. The file has not been changed."
        )
    if current is None and has_tables:
        raise DataDirectoryError(
            f"The file {db_path} is not a Conduct Casebook database; it has not been changed."
        )
    head = script.get_current_head()
    if current == head:
        return None
    if not may_change:
        raise DataDirectoryInUseError(
            f"The casebook in {db_path.parent} needs updating, but Conduct Casebook is open "
            "on it elsewhere; close it and try again."
        )
    backup = _backup_before_migration(db_path, backups_dir, current, key) if current else None
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    log.info("Migrated the database from %s to %s", current, head)
    return backup


def upgrade_to(engine: Engine, revision: str) -> None:
    """Apply migrations up to ``revision`` only (used by migration tests)."""
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
