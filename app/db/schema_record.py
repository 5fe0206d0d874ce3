"""The test suite's shortcut to a new casebook's schema (never used outside the tests).

The suite makes over a thousand new casebooks; running every Alembic migration for each
was most of its time. Each test worker runs the real migrations once, records the schema
and rows they leave in a new database (tests/schema_template.py, which also checks the
record reproduces that database exactly), and names the record in this setting; a new,
empty database is then given those statements instead of the migrations.

It is reachable only where the tests' cheap key-derivation setting is on as well: a
casebook made with that setting is refused wherever it is absent (app/security/keyring.py),
so a schema made this way can never reach a school's casebook. A record of another
revision is ignored (the migrations run as usual).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from app.security.keyring import TEST_COST_SETTING

TEST_SCHEMA_SETTING = "CASEBOOK_TESTS_ONLY_SCHEMA"


def recorded_schema(head: str) -> list[str] | None:
    """The statements that make a new database at ``head``, or None (run the migrations)."""
    where = os.environ.get(TEST_SCHEMA_SETTING)
    if not where or os.environ.get(TEST_COST_SETTING) != "1":
        return None
    try:
        record = json.loads(Path(where).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # e.g. a command run elsewhere than the tests that named it
    if not isinstance(record, dict) or record.get("head") != head:
        return None
    statements = record.get("statements")
    if not isinstance(statements, list) or not all(isinstance(s, str) for s in statements):
        return None
    return statements
