"""Alembic owns the schema: upgrades keep data, take a backup, and never touch a stranger."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from app.config import DataPaths, prepare_data_dir
from app.db.engine import (
    _alembic_config,
    connect_encrypted,
    current_revision,
    head_revision,
    make_engine,
    migrate,
    needs_migration,
    upgrade_to,
)
from app.domain.errors import DatabaseTooNewError, DataDirectoryError
from app.domain.records import CaseFilter
from app.security.crypto import DataKey
from app.security.keyring import Keyring, KeyringFile, KeyringStore
from app.services.casebook import open_casebook
from tests.conftest import connect_database, reopen

FIRST = "0001_initial"

# These tests are about the migrations themselves: no new casebook here takes the suite's
# recorded schema (tests/schema_template.py).
pytestmark = pytest.mark.usefixtures("migrations_only")


@pytest.fixture
def paths(tmp_path: Path) -> DataPaths:
    return prepare_data_dir(tmp_path / "casebook")


@pytest.fixture
def key(paths: DataPaths) -> DataKey:
    """A data key, with the keyring that lets open_casebook accept it for this folder."""
    new = DataKey.new()
    KeyringStore(KeyringFile(paths.keyring)).save(Keyring.new(new))
    return new


@pytest.fixture
def engine(paths: DataPaths, key: DataKey) -> Iterator[Engine]:
    engine = make_engine(paths.database, lambda: key)
    yield engine
    engine.dispose()


def revisions() -> list[str]:
    return [r.revision for r in ScriptDirectory.from_config(_alembic_config()).walk_revisions()]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables(path: Path, key: DataKey | None = None) -> set[str]:
    connection = connect_encrypted(path, key) if key else sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}
    finally:
        connection.close()


def test_the_first_revision_is_the_root() -> None:
    assert revisions()[-1] == FIRST
    assert head_revision() == revisions()[0]


def test_upgrade_from_an_empty_file_to_head(paths: DataPaths, engine: Engine, key: DataKey) -> None:
    paths.database.write_bytes(b"")
    assert current_revision(engine) is None
    assert needs_migration(engine)
    assert migrate(engine, paths.database, paths.backups, key) is None
    assert current_revision(engine) == head_revision()
    assert not needs_migration(engine)
    assert {"cases", "people", "case_people", "case_categories", "events", "settings"} <= tables(
        paths.database, key
    )
    assert list(paths.backups.iterdir()) == []


def test_upgrade_from_the_first_revision_keeps_data(
    paths: DataPaths, engine: Engine, key: DataKey
) -> None:
    upgrade_to(engine, FIRST)
    assert current_revision(engine) == FIRST
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cases (reference, ref_year, ref_number, title, status, categories,"
                " search_text, code_version, created_at, updated_at, last_activity_at)"
                " VALUES ('SM-2026-0001', 2026, 1, 'Kept across upgrades', 'new', 'abusive',"
                " 'sm-2026-0001 kept across upgrades', '1.0', '2026-11-24 10:00:00',"
                " '2026-11-24 10:00:00', '2026-11-24 10:00:00')"
            )
        )
        connection.execute(
            text("INSERT INTO case_categories (case_id, category) VALUES (1, 'abusive')")
        )
    backup = migrate(engine, paths.database, paths.backups, key)
    assert current_revision(engine) == head_revision()
    if head_revision() == FIRST:
        # Only one revision so far: nothing to do, so no backup either.
        assert backup is None
        assert list(paths.backups.iterdir()) == []
    else:
        assert backup is not None
        assert backup.parent == paths.backups
        assert FIRST in backup.name
        assert b"Kept across upgrades" not in backup.read_bytes()  # encrypted like the file
        connection = connect_encrypted(backup, key)
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        (title,) = connection.execute("SELECT title FROM cases").fetchone()
        connection.close()
        assert (version, title) == (FIRST, "Kept across upgrades")
    engine.dispose()
    services = open_casebook(paths.root, key=key)
    try:
        assert services.cases.find_case("SM-2026-0001").title == "Kept across upgrades"
        assert services.cases.count_cases(CaseFilter(text="kept")) == 1
    finally:
        services.close()


def test_migrate_on_an_up_to_date_database_does_nothing(
    paths: DataPaths, engine: Engine, key: DataKey
) -> None:
    migrate(engine, paths.database, paths.backups, key)
    engine.dispose()
    before = digest(paths.database)
    assert migrate(engine, paths.database, paths.backups, key) is None
    assert list(paths.backups.iterdir()) == []
    engine.dispose()
    assert digest(paths.database) == before


def test_opening_twice_migrates_once(tmp_path: Path) -> None:
    first = open_casebook(tmp_path / "casebook")
    first.close()
    second = reopen(first)
    second.close()
    assert first.migration_backup is None
    assert second.migration_backup is None
    assert list((tmp_path / "casebook" / "backups").iterdir()) == []


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    services = open_casebook(tmp_path / "casebook")
    services.close()
    database = services.paths.database
    connection = connect_database(services)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.close()
    before = digest(database)
    files_before = _files(database.parent)
    with pytest.raises(DatabaseTooNewError) as caught:
        reopen(services)
    assert "newer version" in caught.value.message
    assert "has not been changed" in caught.value.message
    assert digest(database) == before
    assert _files(database.parent) == files_before
    assert list(services.paths.backups.iterdir()) == []


@pytest.mark.parametrize(
    "make_stranger",
    [
        pytest.param(lambda p: p.write_text("Minutes of the governors' meeting\n" * 50), id="text"),
        pytest.param(lambda p: p.write_bytes(bytes(range(256)) * 64), id="binary"),
    ],
)
def test_a_file_that_is_not_a_database_is_refused_untouched(
    tmp_path: Path, make_stranger: object
) -> None:
    paths = prepare_data_dir(tmp_path / "casebook")
    make_stranger(paths.database)  # type: ignore[operator]
    before = digest(paths.database)
    with pytest.raises(DataDirectoryError) as caught:
        open_casebook(paths.root)
    assert str(paths.database) in caught.value.message
    assert "\n" not in caught.value.message
    assert digest(paths.database) == before
    assert _files(paths.root) == {"casebook.sqlite3", "blobs", "backups", "logs"}


def test_another_programs_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    paths = prepare_data_dir(tmp_path / "casebook")
    with sqlite3.connect(paths.database) as connection:
        connection.execute("CREATE TABLE pupils (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO pupils (name) VALUES ('Example Pupil')")
    connection.close()
    before = digest(paths.database)
    with pytest.raises(DataDirectoryError, match="is not a Conduct Casebook database") as caught:
        open_casebook(paths.root)
    assert "has not been changed" in caught.value.message
    assert digest(paths.database) == before
    assert tables(paths.database) == {"pupils"}
    assert _files(paths.root) == {"casebook.sqlite3", "blobs", "backups", "logs"}


def test_schema_head_constant_matches_alembic() -> None:
    """The start-up fast path trusts SCHEMA_HEAD; it must name Alembic's real head."""
    from app.db.engine import SCHEMA_HEAD, head_revision

    assert head_revision() == SCHEMA_HEAD
