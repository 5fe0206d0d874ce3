"""Opening a casebook: folders, SQLite settings on every connection."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.config import DataPaths
from app.db.engine import current_revision, head_revision, make_engine
from app.domain.errors import DataDirectoryError
from app.services.casebook import Services, open_casebook


def _pragmas(connection) -> tuple[str, int, int]:  # type: ignore[no-untyped-def]
    return (
        connection.execute(text("PRAGMA journal_mode")).scalar(),
        connection.execute(text("PRAGMA synchronous")).scalar(),
        connection.execute(text("PRAGMA foreign_keys")).scalar(),
    )


def test_every_connection_uses_wal_full_sync_and_foreign_keys(services: Services) -> None:
    with services.engine.connect() as first, services.engine.connect() as second:
        assert _pragmas(first) == ("wal", 2, 1)
        assert _pragmas(second) == ("wal", 2, 1)
    services.engine.dispose()
    with services.engine.connect() as fresh:
        assert _pragmas(fresh) == ("wal", 2, 1)


def test_a_new_engine_on_the_file_sets_them_too(services: Services) -> None:
    engine = make_engine(services.paths.database, lambda: services.data_key)
    try:
        with engine.connect() as connection:
            assert _pragmas(connection) == ("wal", 2, 1)
    finally:
        engine.dispose()


def test_sessions_enforce_foreign_keys(services: Services) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), services.ctx.sessions.begin() as session:
        session.execute(
            text(
                "INSERT INTO case_people (case_id, person_id, role, created_at) "
                "VALUES (41, 42, 'author', '2026-11-24 10:00:00')"
            )
        )


def test_opening_creates_the_folders_and_a_database_at_head(services: Services) -> None:
    paths = services.paths
    assert paths == DataPaths(paths.root)
    for folder in (paths.root, paths.blobs, paths.backups, paths.logs):
        assert folder.is_dir()
    assert paths.database.is_file()
    assert current_revision(services.engine) == head_revision()
    assert services.migration_backup is None


def test_a_data_folder_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DataDirectoryError, match="cannot be created or written"):
        open_casebook(blocker / "casebook")
