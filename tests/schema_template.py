"""A record of what the real migrations leave in a new database, replayed for each new
casebook the tests make (app/db/schema_record.py).

Each test worker runs every Alembic migration once, on a real encrypted casebook, and
records its final state: every schema statement in the order SQLite holds them (tables,
indexes, triggers, full-text tables) and every row the migrations wrote (the revision, the
audit seal, the full-text tables' own bookkeeping). Before the record is used it is played
into an empty database and compared with the migrated one, table by table and row by row;
tests/unit/test_schema_template.py proves a casebook made from it behaves as one migrated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher

from app.db.engine import SCHEMA_HEAD
from app.db.schema_record import TEST_SCHEMA_SETTING

# What SQLite reports about a database beyond its tables and rows.
PRAGMAS = ("user_version", "application_id", "auto_vacuum", "encoding", "page_size")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _has_rowid(connection: Any, table: str) -> bool:
    try:
        connection.execute(f"SELECT rowid FROM {_quoted(table)} LIMIT 0")
    except sqlcipher.OperationalError:
        return False  # WITHOUT ROWID (full-text bookkeeping)
    return True


def _copy_rows(connection: Any, table: str) -> list[str]:
    """Statements that give ``table`` exactly the rows it has in ``connection``."""
    columns = [row[1] for row in connection.execute(f"PRAGMA table_info({_quoted(table)})")]
    if _has_rowid(connection, table):
        columns = ["rowid", *columns]
    values = " || ',' || ".join(f"quote({_quoted(c)})" for c in columns)
    rows = [row[0] for row in connection.execute(f"SELECT {values} FROM {_quoted(table)}")]
    if not rows:
        return []
    names = ", ".join(_quoted(c) for c in columns)
    # Creating a full-text table writes its own bookkeeping rows: replaced, not added to.
    return [f"DELETE FROM {_quoted(table)}"] + [
        f"INSERT INTO {_quoted(table)} ({names}) VALUES ({row})" for row in rows
    ]


def _tables(connection: Any) -> list[str]:
    """Every table that holds rows (virtual tables keep theirs in their shadow tables)."""
    return [
        name
        for name, sql in connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
        )
        if not (sql or "").upper().startswith("CREATE VIRTUAL TABLE")
    ]


def snapshot(connection: Any) -> dict[str, Any]:
    """Everything a database holds: schema entries, every table's rows, its settings."""
    return {
        "schema": [
            list(row)
            for row in connection.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
            )
        ],
        "rows": {
            table: sorted(
                (repr(row) for row in connection.execute(f"SELECT * FROM {_quoted(table)}")),
            )
            for table in _tables(connection)
        },
        "pragmas": {
            pragma: connection.execute(f"PRAGMA {pragma}").fetchone()[0] for pragma in PRAGMAS
        },
    }


def record(connection: Any) -> list[str]:
    """The statements that turn an empty database into a copy of ``connection``'s."""
    scratch = sqlcipher.connect(":memory:")
    try:
        statements: list[str] = []
        for type_, name, sql in connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        ).fetchall():
            # A full-text table makes its shadow tables itself, just before them in order.
            made = scratch.execute(
                "SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?", (type_, name)
            ).fetchone()
            if made:
                continue
            scratch.execute(sql)
            statements.append(sql)
        # Triggers are in place by now: rows go only into tables no trigger watches, so
        # copying them fires nothing (checked by the comparison below).
        for table in _tables(connection):
            statements += _copy_rows(connection, table)
        for pragma in ("user_version", "application_id"):
            (value,) = connection.execute(f"PRAGMA {pragma}").fetchone()
            if value:
                statements.append(f"PRAGMA {pragma} = {int(value)}")
        replay = sqlcipher.connect(":memory:")
        try:
            for statement in statements:
                replay.execute(statement)
            made, migrated = snapshot(replay), snapshot(connection)
            # An in-memory database keeps its own page size and journal; the rest must match.
            made["pragmas"].pop("page_size")
            migrated["pragmas"].pop("page_size")
            if made != migrated:
                raise AssertionError("The schema record does not reproduce the migrated database")
        finally:
            replay.close()
        return statements
    finally:
        scratch.close()


def write_record(connection: Any, target: Path) -> Path:
    """Record ``connection``'s database (at this app's newest revision) into ``target``."""
    (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == SCHEMA_HEAD, (version, SCHEMA_HEAD)
    target.write_text(
        json.dumps({"head": SCHEMA_HEAD, "statements": record(connection)}), encoding="utf-8"
    )
    return target


@contextmanager
def migrations_only() -> Iterator[None]:
    """While in use, new casebooks in this process run every Alembic migration."""
    saved = os.environ.pop(TEST_SCHEMA_SETTING, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[TEST_SCHEMA_SETTING] = saved
