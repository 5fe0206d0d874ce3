"""The sealed audit trail on a casebook shared through PostgreSQL (two PCs, one server).

The entries, the next entry's key and the checkpoints are on the server, so every PC's
check sees what an insider with the database credentials did there.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.domain.access import Role
from app.security.audit_chain import entry_mac, next_entry_key
from app.services.audit import ANCHOR_FILE, GENESIS, entry_hash
from app.services.casebook import open_casebook
from tests.conftest import open_signed_in
from tests.postgres_server import PostgresServer

HEAD, HEAD_PASSWORD = "head", "tide-marble-orchard-42"
OFFICE, OFFICE_PASSWORD = "Mrs Office", "lantern-river-copper-7"


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    return postgres_server.new_database()


def _shared_trail(tmp_path: Path, url: str) -> tuple[Path, Path]:
    head_pc, office_pc = tmp_path / "head-pc", tmp_path / "office-pc"
    services = open_casebook(head_pc, actor=HEAD, database_url=url)
    try:
        services.users.create_first_user(HEAD, HEAD_PASSWORD)
        services.users.add_user(OFFICE, Role.OFFICE, OFFICE_PASSWORD)
    finally:
        services.close()
    for pc, user, password in (
        (office_pc, OFFICE, OFFICE_PASSWORD),
        (head_pc, HEAD, HEAD_PASSWORD),
        (office_pc, OFFICE, OFFICE_PASSWORD),
    ):
        services = open_signed_in(pc, user, password, database_url=url)
        services.close()
    return head_pc, office_pc


def _verify(pc: Path, url: str) -> Any:
    services = open_signed_in(pc, HEAD, HEAD_PASSWORD, database_url=url)
    try:
        return services.audit.verify()
    finally:
        services.close()


def test_each_pc_checks_the_same_sealed_trail(tmp_path: Path, url: str) -> None:
    head_pc, office_pc = _shared_trail(tmp_path, url)
    assert (head_pc / ANCHOR_FILE).exists()
    assert not (office_pc / ANCHOR_FILE).exists()  # no head teacher has signed in there
    for pc in (office_pc, head_pc):
        check = _verify(pc, url)
        assert check.ok, check.problems


def test_an_edit_rechained_on_the_server_is_named_on_every_pc(tmp_path: Path, url: str) -> None:
    head_pc, office_pc = _shared_trail(tmp_path, url)
    victim = 3
    services = open_signed_in(office_pc, OFFICE, OFFICE_PASSWORD, database_url=url)
    try:
        with services.engine.begin() as connection:
            connection.execute(
                text("UPDATE audit_entries SET target = 'SM-2026-0009' WHERE seq = :s"),
                {"s": victim},
            )
            rows = connection.execute(
                text(
                    'SELECT id, seq, at, "user", action, target, detail, hash '
                    "FROM audit_entries ORDER BY seq"
                )
            ).all()
            (live,) = connection.execute(text("SELECT entry_key FROM audit_seal")).one()
            key, prev = bytes.fromhex(live), GENESIS
            for row_id, seq, at, user, action, target, detail, old in rows:
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
                digest = entry_hash(prev, seq, at, user, action, target, detail)
                if digest != old:
                    connection.execute(
                        text(
                            "UPDATE audit_entries SET prev_hash = :p, hash = :h, mac = :m "
                            "WHERE id = :i"
                        ),
                        {"p": prev, "h": digest, "m": entry_mac(key, seq, digest), "i": row_id},
                    )
                    key = next_entry_key(key)
                prev = digest
            connection.execute(
                text("UPDATE audit_seal SET key_seq = :k, entry_key = :e"),
                {"k": rows[-1][1] + 1, "e": key.hex()},
            )
    finally:
        services.close()
    for pc in (office_pc, head_pc):
        check = _verify(pc, url)
        assert check.broken_seq == victim, check.problems


def test_entries_cut_off_the_end_on_the_server_are_reported(tmp_path: Path, url: str) -> None:
    _, office_pc = _shared_trail(tmp_path, url)
    services = open_signed_in(office_pc, OFFICE, OFFICE_PASSWORD, database_url=url)
    try:
        with services.engine.begin() as connection:
            (newest,) = connection.execute(text("SELECT max(seq) FROM audit_entries")).one()
            connection.execute(text("DELETE FROM audit_entries WHERE seq > :s"), {"s": newest - 3})
    finally:
        services.close()
    check = _verify(office_pc, url)  # a PC whose own files know nothing of those entries
    assert not check.ok
    assert any("removed" in p for p in check.problems)
