"""The suite's new casebooks take their schema from a record of what the real migrations
left in one migrated casebook per test worker (tests/schema_template.py). A casebook made
from it must be the casebook the migrations make: the same schema, triggers, full-text
tables and rows, its own data key, and sealed cases that its head teacher reads back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.db.engine import SCHEMA_HEAD, connect_encrypted
from app.db.schema_record import TEST_SCHEMA_SETTING, recorded_schema
from app.domain.access import Role
from app.domain.categories import Category
from app.domain.records import CaseDraft, CaseFilter, CaseSort
from app.security.crypto import is_sealed_text
from app.security.keyring import TEST_COST_SETTING
from app.services.casebook import open_casebook
from tests.conftest import Clock, connect_database, open_signed_in
from tests.schema_template import migrations_only, snapshot

HEAD_PASSWORD = "tide-marble-orchard-42"
OFFICE_PASSWORD = "lantern-river-copper-7"
SEALED = "Disclosure about Year 3 pupil Ottoline Brackenridge"
ORDINARY = "Complaint about the summer fair raffle"
EXHIBIT = b"Chat export: the parent calls the head teacher a quisling in capitals."


def _new(data_dir: Path, clock: Clock) -> dict[str, Any]:
    """A new casebook's database, as the set-up screen finds it."""
    services = open_casebook(data_dir, clock=clock)
    try:
        connection = connect_database(services)
        try:
            return snapshot(connection)
        finally:
            connection.close()
    finally:
        services.close()


def _use(data_dir: Path, clock: Clock) -> dict[str, Any]:
    """Set the casebook up and work in it as a school would; what each user then sees."""
    services = open_casebook(data_dir, clock=clock)
    try:
        services.users.create_first_user("head", HEAD_PASSWORD)
        services.users.add_user("office", Role.OFFICE, OFFICE_PASSWORD)
        services.users.sign_in("head", HEAD_PASSWORD)
        sealed = services.cases.open_case(
            CaseDraft(title=SEALED, categories=frozenset({Category.SAFEGUARDING}))
        )
        ordinary = services.cases.open_case(
            CaseDraft(title=ORDINARY, categories=frozenset({Category.ABUSIVE}))
        )
        services.evidence.add_bytes(ordinary.id, [("chat.txt", EXHIBIT)])
        services.cases.add_note(sealed.id, "Referred to the designated lead")
    finally:
        services.close()
    seen: dict[str, Any] = {}
    order = CaseSort("reference", False)
    for name, password in (("head", HEAD_PASSWORD), ("office", OFFICE_PASSWORD)):
        services = open_signed_in(data_dir, name, password, clock=clock)
        try:
            seen[name] = {
                "list": [r.title for r in services.cases.list_cases(CaseFilter(), order)],
                "search": [
                    r.reference
                    for r in services.cases.list_cases(CaseFilter(text="brackenridge"), order)
                ],
                "in exhibits": [
                    r.reference
                    for r in services.cases.list_cases(
                        CaseFilter(text="quisling", in_evidence=True), order
                    )
                ],
                "audit": services.audit.verify().ok if name == "head" else None,
            }
        finally:
            services.close()
    return seen


def test_the_record_is_in_use_for_this_schema() -> None:
    """Without this, the comparisons below would compare the migrations with themselves."""
    assert os.environ.get(TEST_COST_SETTING) == "1"
    statements = recorded_schema(SCHEMA_HEAD)
    assert statements is not None
    assert any(s.startswith("CREATE VIRTUAL TABLE case_words USING fts5") for s in statements)
    assert any(s.startswith("CREATE TRIGGER cases_words_insert") for s in statements)


def test_a_casebook_from_the_record_is_the_migrated_one(tmp_path: Path, clock: Clock) -> None:
    recorded = _new(tmp_path / "recorded", clock)
    with migrations_only():
        migrated = _new(tmp_path / "migrated", clock)
    assert recorded == migrated  # every schema entry in order, every row, the settings
    assert [row[1] for row in recorded["schema"] if row[0] == "trigger"] == [
        row[1] for row in migrated["schema"] if row[0] == "trigger"
    ]
    assert {"case_search", "case_text", "evidence_text", "case_words"} <= {
        row[1] for row in recorded["schema"] if "VIRTUAL TABLE" in (row[3] or "")
    }
    assert recorded["rows"]["alembic_version"] == [repr((SCHEMA_HEAD,))]


def test_a_casebook_from_the_record_works_as_a_migrated_one(tmp_path: Path, clock: Clock) -> None:
    recorded = _use(tmp_path / "recorded", clock)
    with migrations_only():
        migrated = _use(tmp_path / "migrated", clock)
    assert recorded == migrated
    assert recorded["head"] == {
        "list": [SEALED, ORDINARY],
        "search": ["SM-2026-0001"],
        "in exhibits": ["SM-2026-0002"],
        "audit": True,
    }
    assert recorded["office"]["list"] == [ORDINARY]  # the sealed case is the head's alone
    assert recorded["office"]["search"] == []


def test_each_casebook_from_the_record_has_its_own_key(tmp_path: Path, clock: Clock) -> None:
    keys = []
    for name in ("first", "second"):
        services = open_casebook(tmp_path / name, clock=clock)
        try:
            services.users.create_first_user("head", HEAD_PASSWORD)
            services.cases.open_case(
                CaseDraft(title=SEALED, categories=frozenset({Category.SAFEGUARDING}))
            )
            keys.append(services.data_key)
        finally:
            services.close()
    first, second = keys
    assert first is not None and second is not None
    assert first.check_value() != second.check_value()
    database = tmp_path / "first" / "casebook.sqlite3"
    assert not database.read_bytes().startswith(b"SQLite format 3")
    connection = connect_encrypted(database, first)
    try:
        (title,) = connection.execute("SELECT title FROM cases").fetchone()
        assert is_sealed_text(title)  # sealed under the head's key, not the data key alone
    finally:
        connection.close()
    stranger = connect_encrypted(database, second)
    try:
        with pytest.raises(Exception, match="not a database"):
            stranger.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        stranger.close()


def test_the_record_is_used_only_by_the_tests(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record naming this revision is what a new database gets; without the tests' cheap
    key-derivation setting (so in any school's casebook) it is never read."""
    record = json.loads(Path(os.environ[TEST_SCHEMA_SETTING]).read_text(encoding="utf-8"))
    record["statements"].append("CREATE TABLE made_from_the_record (x)")
    marked = tmp_path / "marked.json"
    marked.write_text(json.dumps(record), encoding="utf-8")
    monkeypatch.setenv(TEST_SCHEMA_SETTING, str(marked))

    def tables(name: str) -> set[str]:
        return {row[1] for row in _new(tmp_path / name, clock)["schema"]}

    assert "made_from_the_record" in tables("with")
    monkeypatch.setenv(TEST_COST_SETTING, "0")
    assert "made_from_the_record" not in tables("without")
    monkeypatch.setenv(TEST_COST_SETTING, "1")
    record["head"] = "0001_initial"
    marked.write_text(json.dumps(record), encoding="utf-8")
    assert "made_from_the_record" not in tables("older")
