"""The audit trail against an insider who holds the data key (an office password).

Each test opens the encrypted database directly, as someone with an office password and
the files could, rewrites the trail the way the app would have written it (recomputing
every hash, and MACing with the only entry key they can read), and asks a head teacher's
``audit verify`` which entry was touched first.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.db.engine import connect_encrypted
from app.domain.access import Role
from app.domain.categories import Category
from app.domain.records import CaseDraft
from app.security.audit_chain import entry_key_after, entry_mac, next_entry_key
from app.security.keyring import user_key
from app.services.audit import ANCHOR_FILE, CHECKPOINT_EVERY, GENESIS, HEAD_FILE, entry_hash
from app.services.casebook import open_casebook
from tests.conftest import Clock, folder_key, open_signed_in

HEAD, HEAD_PASSWORD = "head", "tide-marble-orchard-42"
OFFICE, OFFICE_PASSWORD = "Mrs Office", "lantern-river-copper-7"


@dataclass
class Trail:
    data_dir: Path
    clock: Clock
    checkpointed: int  # the newest entry sealed by the last head teacher's sign-in
    newest: int


def _work_as(data_dir: Path, clock: Clock, user: str, password: str, notes: int) -> None:
    services = open_signed_in(data_dir, user, password, clock=clock)
    try:
        for number in range(notes):
            clock.advance(minutes=7)
            services.cases.get_case(number % 3 + 1)
    finally:
        services.close()


def _newest(data_dir: Path) -> int:
    return int((data_dir / HEAD_FILE).read_text(encoding="ascii").split()[0])


@pytest.fixture(scope="module")
def worked_trail(tmp_path_factory: pytest.TempPathFactory) -> Trail:
    """The trail below, made once for this module (about fifteen sign-ins and a hundred
    entries); each test tampers with a copy of its folder."""
    return _work_trail(tmp_path_factory.mktemp("trail") / "casebook", Clock())


@pytest.fixture
def trail(worked_trail: Trail, data_dir: Path, clock: Clock) -> Trail:
    """Head and office have both worked; a head teacher signed in between (a checkpoint).
    A copy of the whole folder (database, key file, head and checkpoint files), and a
    clock at the moment the original was left."""
    shutil.copytree(worked_trail.data_dir, data_dir)
    clock.set(worked_trail.clock.now)
    return Trail(data_dir, clock, worked_trail.checkpointed, worked_trail.newest)


def _work_trail(data_dir: Path, clock: Clock) -> Trail:
    services = open_casebook(data_dir, actor=HEAD, clock=clock)
    try:
        services.users.create_first_user(HEAD, HEAD_PASSWORD)
        services.users.add_user(OFFICE, Role.OFFICE, OFFICE_PASSWORD)
        for title in ("Rude comments", "A photo of the gate", "A post about a teacher"):
            services.cases.open_case(
                CaseDraft(title=title, categories=frozenset({Category.ABUSIVE}))
            )
    finally:
        services.close()
    _work_as(data_dir, clock, OFFICE, OFFICE_PASSWORD, 6)
    _work_as(data_dir, clock, HEAD, HEAD_PASSWORD, 2)  # the sign-in makes a checkpoint
    checkpointed = _newest(data_dir)
    _work_as(data_dir, clock, OFFICE, OFFICE_PASSWORD, 6)
    return Trail(data_dir, clock, checkpointed, _newest(data_dir))


@contextmanager
def insider(trail: Trail) -> Iterator[Any]:
    """The casebook's database opened with an office user's password, outside the app."""
    key = folder_key(trail.data_dir, OFFICE, OFFICE_PASSWORD)
    connection = connect_encrypted(trail.data_dir / "casebook.sqlite3", key)
    try:
        with connection:
            yield connection
    finally:
        connection.close()


def _as_utc(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


def rechain(connection: Any, data_dir: Path) -> None:
    """Recompute every hash, and every MAC that changed with the one key an insider holds.

    Written against the app's own hash so that the rewritten trail is exactly what the
    app would have written; only the keys of entries already written are out of reach.
    """
    rows = connection.execute(
        "SELECT id, seq, at, user, action, target, detail, hash FROM audit_entries ORDER BY id"
    ).fetchall()
    state = connection.execute("SELECT entry_key FROM audit_seal").fetchone()
    live_key: bytes | None = bytes.fromhex(state[0]) if state and state[0] else None
    prev = GENESIS
    for row_id, seq, at, user, action, target, detail, old_hash in rows:
        digest = entry_hash(prev, seq, _as_utc(at), user, action, target, detail)
        if digest != old_hash:
            connection.execute(
                "UPDATE audit_entries SET prev_hash = ?, hash = ? WHERE id = ?",
                (prev, digest, row_id),
            )
            if live_key is not None:
                connection.execute(
                    "UPDATE audit_entries SET mac = ? WHERE id = ?",
                    (entry_mac(live_key, seq, digest), row_id),
                )
                live_key = next_entry_key(live_key)
        prev = digest
    newest = rows[-1][1]
    if live_key is not None:
        connection.execute(
            "UPDATE audit_seal SET key_seq = ?, entry_key = ?", (newest + 1, live_key.hex())
        )
    (data_dir / HEAD_FILE).write_text(f"{newest} {prev}\n", encoding="ascii")


def _renumber_from(connection: Any, seq: int) -> None:
    connection.execute("UPDATE audit_entries SET seq = -(seq - 1) WHERE seq > ?", (seq,))
    connection.execute("UPDATE audit_entries SET seq = -seq WHERE seq < 0")


def _edit(connection: Any, victim: int) -> None:
    connection.execute(
        "UPDATE audit_entries SET user = 'head', target = 'SM-2026-0009' WHERE seq = ?",
        (victim,),
    )


def _delete(connection: Any, victim: int) -> None:
    connection.execute("DELETE FROM audit_entries WHERE seq = ?", (victim,))
    _renumber_from(connection, victim)


def _reorder(connection: Any, victim: int) -> None:
    columns = "at, user, action, target, detail"
    first = connection.execute(
        f"SELECT {columns} FROM audit_entries WHERE seq = ?", (victim,)
    ).fetchone()
    second = connection.execute(
        f"SELECT {columns} FROM audit_entries WHERE seq = ?", (victim + 1,)
    ).fetchone()
    setter = "at = ?, user = ?, action = ?, target = ?, detail = ?"
    connection.execute(f"UPDATE audit_entries SET {setter} WHERE seq = ?", (*second, victim))
    connection.execute(f"UPDATE audit_entries SET {setter} WHERE seq = ?", (*first, victim + 1))


def _verify_as_head(trail: Trail) -> Any:
    services = open_signed_in(trail.data_dir, HEAD, HEAD_PASSWORD, clock=trail.clock)
    try:
        return services.audit.verify(), [e.action for e in services.audit.entries(limit=5)]
    finally:
        services.close()


def test_an_untouched_trail_is_intact(trail: Trail) -> None:
    check, _ = _verify_as_head(trail)
    assert check.ok, check.problems
    assert any("Sealed since" in note for note in check.notes)


@pytest.mark.parametrize("tamper", [_edit, _delete, _reorder], ids=["edit", "delete", "reorder"])
@pytest.mark.parametrize("where", ["sealed", "since the last checkpoint"])
def test_a_rewritten_and_rechained_trail_names_the_first_entry_touched(
    trail: Trail, tamper: Any, where: str
) -> None:
    victim = trail.checkpointed - 3 if where == "sealed" else trail.checkpointed + 2
    assert victim + 1 < trail.newest
    with insider(trail) as connection:
        tamper(connection, victim)
        rechain(connection, trail.data_dir)
    check, recent = _verify_as_head(trail)
    assert not check.ok
    assert check.broken_seq == victim, check.problems
    assert f"entry {victim} (" in check.problems[0], check.problems
    # The head teacher's sign-in saw it too, and made no checkpoint over it.
    assert "audit trail problem found" in recent


def test_removing_the_newest_entries_and_the_head_file_is_reported(trail: Trail) -> None:
    cut = trail.newest - 2
    with insider(trail) as connection:
        connection.execute("DELETE FROM audit_entries WHERE seq > ?", (cut,))
    (trail.data_dir / HEAD_FILE).unlink()
    check, _ = _verify_as_head(trail)
    assert not check.ok
    # The first entry written after the cut (the checking head teacher's own sign-in)
    # stands after the gap, which names the entries removed.
    assert check.broken_seq == trail.newest + 1, check.problems
    assert check.problems[0].startswith("2 audit entries before entry")
    assert f"(numbers {cut + 1} to {cut + 2})" in check.problems[0]
    assert any(HEAD_FILE in p and "missing" in p for p in check.problems), check.problems
    # Checking (and the sign-in before it) did not quietly write a new head file.
    assert not (trail.data_dir / HEAD_FILE).exists()


def test_cutting_the_end_and_rewinding_the_next_key_is_reported(trail: Trail) -> None:
    cut = trail.newest - 3
    with insider(trail) as connection:
        connection.execute("DELETE FROM audit_entries WHERE seq > ?", (cut,))
        # The insider's best guess at the key the shorter trail would have left behind.
        (live,) = connection.execute("SELECT entry_key FROM audit_seal").fetchone()
        connection.execute("UPDATE audit_seal SET key_seq = ?, entry_key = ?", (cut + 1, live))
    newest = f"{cut} " + _hash_of(trail, cut)
    (trail.data_dir / HEAD_FILE).write_text(newest + "\n", encoding="ascii")
    check, _ = _verify_as_head(trail)
    assert not check.ok
    assert check.broken_seq == cut + 1, check.problems


def test_removing_checkpoints_and_the_checkpoint_file_is_reported(trail: Trail) -> None:
    with insider(trail) as connection:
        connection.execute("DELETE FROM audit_checkpoints")
        connection.execute("DELETE FROM audit_seal")
    (trail.data_dir / ANCHOR_FILE).unlink()
    check, _ = _verify_as_head(trail)
    assert not check.ok
    assert any("checkpoints have been removed" in p for p in check.problems), check.problems


def test_putting_back_an_older_checkpoint_is_reported(trail: Trail) -> None:
    with insider(trail) as connection:
        (newest_checkpoint,) = connection.execute(
            "SELECT max(id) FROM audit_checkpoints"
        ).fetchone()
        connection.execute("DELETE FROM audit_checkpoints WHERE id = ?", (newest_checkpoint,))
    check, _ = _verify_as_head(trail)
    assert not check.ok
    assert any("cut back" in p or "key for the next" in p for p in check.problems), check.problems


def test_a_forged_checkpoint_is_reported(trail: Trail) -> None:
    anchor = json.loads((trail.data_dir / ANCHOR_FILE).read_text(encoding="utf-8"))
    with insider(trail) as connection:
        connection.execute(
            "UPDATE audit_checkpoints SET user = 'someone else' WHERE seq = ?",
            (anchor["checkpoint"]["seq"],),
        )
    check, _ = _verify_as_head(trail)
    assert not check.ok
    assert any("checkpoint" in p and "changed" in p for p in check.problems), check.problems


def test_a_reseal_records_what_was_lost_and_rewrites_the_files(trail: Trail) -> None:
    (trail.data_dir / HEAD_FILE).unlink()
    services = open_signed_in(trail.data_dir, HEAD, HEAD_PASSWORD, clock=trail.clock)
    try:
        assert not services.audit.verify().ok
        services.audit.reseal()
        assert services.audit.verify().ok
        resealed = services.audit.entries(action="resealed")[0]
        assert HEAD_FILE in resealed.detail
    finally:
        services.close()
    assert (trail.data_dir / HEAD_FILE).exists()


def _hash_of(trail: Trail, seq: int) -> str:
    with insider(trail) as connection:
        (digest,) = connection.execute(
            "SELECT hash FROM audit_entries WHERE seq = ?", (seq,)
        ).fetchone()
    return str(digest)


def test_office_staff_hold_no_copy_of_the_audit_key(trail: Trail) -> None:
    services = open_signed_in(trail.data_dir, OFFICE, OFFICE_PASSWORD, clock=trail.clock)
    try:
        assert services.keys.open_audit_key() is None
        assert services.audit.audit_key is None
    finally:
        services.close()
    recovery = open_casebook(trail.data_dir, clock=trail.clock)
    try:
        keyring = recovery.keys.load()
        assert keyring is not None
        wraps = json.loads(keyring.notes["audit_key"])["wraps"]
        assert set(wraps) == {"head", "(recovery key)"}
    finally:
        recovery.close()


def test_a_head_teacher_added_later_gets_the_audit_key(trail: Trail) -> None:
    services = open_signed_in(trail.data_dir, HEAD, HEAD_PASSWORD, clock=trail.clock)
    try:
        services.users.add_user("Mr Deputy", Role.HEAD, "copper-lantern-meadow-9")
        services.users.set_role(OFFICE, Role.HEAD)
        services.users.set_password(OFFICE, "meadow-copper-harbour-3")
    finally:
        services.close()
    for name, password in (
        ("Mr Deputy", "copper-lantern-meadow-9"),
        (OFFICE, "meadow-copper-harbour-3"),
    ):
        services = open_signed_in(trail.data_dir, name, password, clock=trail.clock)
        try:
            assert services.audit.audit_key is not None
            assert services.audit.verify().ok
        finally:
            services.close()


def test_a_head_appointed_without_a_new_password_gets_the_audit_key_at_sign_in(
    trail: Trail,
) -> None:
    """Made head by the role screen, keeping their own password: the audit key is sealed
    to their account's public key, opened at their next sign-in and wrapped under their
    password from then on. Made office staff again, they lose every copy."""
    services = open_signed_in(trail.data_dir, HEAD, HEAD_PASSWORD, clock=trail.clock)
    try:
        services.users.set_role(OFFICE, Role.HEAD)
    finally:
        services.close()
    for _ in range(2):  # the first sign-in opens the sealed copy; the second, the wrap
        services = open_signed_in(trail.data_dir, OFFICE, OFFICE_PASSWORD, clock=trail.clock)
        try:
            assert services.audit.audit_key is not None
            assert services.audit.verify().ok
            note = json.loads(services.keys.load().notes["audit_key"])  # type: ignore[union-attr]
            assert user_key(OFFICE) in note["wraps"]
            assert user_key(OFFICE) not in note.get("boxes", {})
        finally:
            services.close()
    services = open_signed_in(trail.data_dir, HEAD, HEAD_PASSWORD, clock=trail.clock)
    try:
        services.users.set_role(OFFICE, Role.OFFICE)
    finally:
        services.close()
    services = open_signed_in(trail.data_dir, OFFICE, OFFICE_PASSWORD, clock=trail.clock)
    try:
        assert services.audit.audit_key is None
        note = json.loads(services.keys.load().notes["audit_key"])  # type: ignore[union-attr]
        assert user_key(OFFICE) not in note["wraps"]
        assert user_key(OFFICE) not in note.get("boxes", {})
    finally:
        services.close()


def test_a_sealed_copy_of_the_audit_key_for_someone_else_does_not_open(trail: Trail) -> None:
    """A copy sealed to one account, moved to another's slot in the key file (with that
    account's public key written over it), opens for nobody: the seal is bound to the
    account and the public key it was made for."""
    services = open_signed_in(trail.data_dir, HEAD, HEAD_PASSWORD, clock=trail.clock)
    try:
        services.users.add_user("Mr Deputy", Role.OFFICE, "copper-lantern-meadow-9")
        services.users.set_role("Mr Deputy", Role.HEAD)
        services.users.set_role(OFFICE, Role.HEAD)
    finally:
        services.close()
    keyring_path = trail.data_dir / "casebook.keys"
    document = json.loads(keyring_path.read_bytes())
    note = json.loads(document["notes"]["audit_key"])
    theirs = note["boxes"].pop(user_key("Mr Deputy"))
    theirs["pub"] = note["boxes"][user_key(OFFICE)]["pub"]
    note["boxes"][user_key(OFFICE)] = theirs
    document["notes"]["audit_key"] = json.dumps(note, sort_keys=True)
    keyring_path.write_text(json.dumps(document), encoding="utf-8")
    services = open_signed_in(trail.data_dir, OFFICE, OFFICE_PASSWORD, clock=trail.clock)
    try:
        assert services.audit.audit_key is None
    finally:
        services.close()


def _as_before_sealing(data_dir: Path, clock: Clock) -> None:
    """Take a casebook back to how the version before sealing left it (schema 0009)."""
    from alembic import command

    from app.db.engine import _alembic_config

    services = open_casebook(data_dir, key=folder_key(data_dir, HEAD, HEAD_PASSWORD), clock=clock)
    try:
        config = _alembic_config()
        with services.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009_keyring")
    finally:
        services.close()
    keyring_path = data_dir / "casebook.keys"
    document = json.loads(keyring_path.read_bytes())
    del document["notes"]["audit_key"]
    # The downgrade took the users' seals (0012) with it, so the note that they exist goes too.
    document["notes"].pop("users_sealed", None)
    keyring_path.write_text(json.dumps(document), encoding="utf-8")
    (data_dir / ANCHOR_FILE).unlink()


def test_a_casebook_from_before_sealing_is_checked_and_sealed_in(trail: Trail) -> None:
    _as_before_sealing(trail.data_dir, trail.clock)
    services = open_signed_in(trail.data_dir, HEAD, HEAD_PASSWORD, clock=trail.clock)
    try:
        sealed = services.audit.entries(action="sealed audit trail")
        assert len(sealed) == 1
        assert f"{trail.newest + 1} earlier entries checked and sealed in" in sealed[0].detail
        check = services.audit.verify()
        assert check.ok, check.problems
    finally:
        services.close()
    assert (trail.data_dir / ANCHOR_FILE).exists()
    # The entries from before sealing are now as well guarded as the new ones.
    victim = 4
    with insider(trail) as connection:
        _edit(connection, victim)
        rechain(connection, trail.data_dir)
    check, _ = _verify_as_head(trail)
    assert check.broken_seq == victim, check.problems


def test_a_trail_tampered_with_before_sealing_says_so_when_sealed(trail: Trail) -> None:
    _as_before_sealing(trail.data_dir, trail.clock)
    with insider(trail) as connection:
        connection.execute("UPDATE audit_entries SET user = 'someone else' WHERE seq = 5")
    services = open_signed_in(trail.data_dir, HEAD, HEAD_PASSWORD, clock=trail.clock)
    try:
        sealed = services.audit.entries(action="sealed audit trail")[0]
        assert "1 problem(s) were found in them first" in sealed.detail
        assert "entry 5 (" in sealed.detail
        check = services.audit.verify()
        assert check.broken_seq == 5  # still named after sealing
    finally:
        services.close()


def test_a_key_copied_earlier_is_useless_after_the_next_head_sign_in(trail: Trail) -> None:
    with insider(trail) as connection:
        (copied,) = connection.execute("SELECT entry_key FROM audit_seal").fetchone()
        (copied_at,) = connection.execute("SELECT key_seq FROM audit_seal").fetchone()
    _work_as(trail.data_dir, trail.clock, HEAD, HEAD_PASSWORD, 1)  # a new checkpoint
    _work_as(trail.data_dir, trail.clock, OFFICE, OFFICE_PASSWORD, 3)
    newest = _newest(trail.data_dir)
    victim = newest - 1  # written after the checkpoint that followed the copy
    with insider(trail) as connection:
        _edit(connection, victim)
        rows = connection.execute(
            "SELECT id, seq, at, user, action, target, detail FROM audit_entries "
            "WHERE seq >= ? ORDER BY seq",
            (victim,),
        ).fetchall()
        (prev,) = connection.execute(
            "SELECT hash FROM audit_entries WHERE seq = ?", (victim - 1,)
        ).fetchone()
        for row_id, seq, at, user, action, target, detail in rows:
            digest = entry_hash(prev, seq, _as_utc(at), user, action, target, detail)
            # The best the insider can do: ratchet on from the key they copied.
            key = entry_key_after(bytes.fromhex(copied), seq - copied_at)
            connection.execute(
                "UPDATE audit_entries SET prev_hash = ?, hash = ?, mac = ? WHERE id = ?",
                (prev, digest, entry_mac(key, seq, digest), row_id),
            )
            prev = digest
        (trail.data_dir / HEAD_FILE).write_text(f"{rows[-1][1]} {prev}\n", encoding="ascii")
    check, _ = _verify_as_head(trail)
    assert check.broken_seq == victim, check.problems


def test_a_head_teacher_at_work_makes_a_checkpoint_every_so_many_entries(trail: Trail) -> None:
    services = open_signed_in(trail.data_dir, HEAD, HEAD_PASSWORD, clock=trail.clock)
    try:
        with insider(trail) as connection:
            (before,) = connection.execute("SELECT count(*) FROM audit_checkpoints").fetchone()
        for _ in range(2 * CHECKPOINT_EVERY):
            services.cases.get_case(1)
        with insider(trail) as connection:
            (after,) = connection.execute("SELECT count(*) FROM audit_checkpoints").fetchone()
        assert after == before + 2
        assert services.audit.verify().ok
    finally:
        services.close()
