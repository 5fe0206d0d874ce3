"""Encrypting a casebook made by a test version from before encryption at rest.

Such a folder has a plain SQLite database, blobs stored in the clear under their SHA-256,
and no keyring. The head teacher signs in with the password of that version (checked
against its Argon2id hash); then everything is written again, encrypted, beside the old
files, checked, and swapped in. The swap is recorded in a journal first
(``services.swap``), so a power cut part-way is finished at the next start; the plain
files are removed at the end, before the journal, so none survive a cut either.

Other users keep their accounts and roles but have no copy of the new key yet: the head
teacher gives each a new password (Administration › Users, or ``casebook users
set-password``), and until then their sign-in says so.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.config import DataPaths
from app.db.engine import connect_encrypted
from app.domain.access import Role
from app.domain.errors import DataDirectoryError, SignInError
from app.evidence.blobstore import BlobStore
from app.files import replace_file
from app.security.crypto import DataKey, SafeguardingKey
from app.security.keyring import RECOVERY, Keyring, KeyringFile, KeyringStore, user_key
from app.services.keys import AWAITING_NOTE, normalise_recovery_key
from app.services.swap import SwapPlan, fault_point, finish_swap, run_swap

log = logging.getLogger(__name__)

NEW = ".encrypting"
ASIDE = "plain-before-encryption"
OLD_JOURNAL = "encryption-in-progress"  # written by versions before services.swap


def is_plain_sqlite(path: Path) -> bool:
    """True when ``path`` is an unencrypted SQLite file (its header is readable)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == b"SQLite format 3\0"
    except OSError:
        return False


def plain_tables(path: Path) -> set[str]:
    """The tables of an unencrypted SQLite file, read without changing it (empty if none)."""
    if not is_plain_sqlite(path):
        return set()
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {name for (name,) in rows}
        finally:
            connection.close()
    except sqlite3.Error:
        return set()


def is_plain_casebook(paths: DataPaths) -> bool:
    """True for a casebook from before encryption: a plain database and no keyring."""
    if paths.keyring.exists():
        return False
    return {"alembic_version", "users"} <= plain_tables(paths.database)


def finish_interrupted(paths: DataPaths) -> None:
    """Complete a restore or encryption a power cut interrupted (its new files were checked)."""
    if finish_swap(paths.root) is None and (paths.root / OLD_JOURNAL).exists():
        # An earlier version's journal: its swap moved the same files in the same order.
        log.warning("Finishing the encryption of the casebook that was interrupted")
        run_swap(paths.root, _plan(paths))


def encrypt_casebook(paths: DataPaths, name: str, password: str) -> str:
    """Encrypt a plain casebook for its head teacher; return the new recovery key."""
    from app.services.users import new_recovery_key

    plain = paths.database
    users = _plain_users(plain)
    wanted = user_key(name)
    match = next((u for u in users if u[1] == wanted), None)
    if match is None or not _matches(match[3], password):
        raise SignInError("The user name or password is not right.")
    if match[2] != Role.HEAD.value:
        raise SignInError(
            "Only the head teacher can encrypt the casebook; ask them to sign in first."
        )
    key = DataKey.new()
    _clear_leftovers(paths)
    encrypted = plain.with_name(plain.name + NEW)
    _export(plain, encrypted, key)
    _seal_blobs(paths.blobs, paths.root / f"blobs{NEW}", key)
    (paths.root / f"blobs{NEW}").mkdir(exist_ok=True)
    recovery = new_recovery_key()
    head_key = SafeguardingKey.new()
    keyring = Keyring.new(key, head_key)
    keyring.add_account(RECOVERY, normalise_recovery_key(recovery), key, head_key=head_key)
    keyring.add_account(match[0], password, key, head_key=head_key)
    others = [u[0] for u in users if u[1] != wanted]
    if others:
        keyring.notes[AWAITING_NOTE] = "\n".join(user_key(other) for other in others)
    fault_point("encrypt", "in:casebook.keys.encrypting")
    KeyringStore(KeyringFile(paths.keyring.with_name(paths.keyring.name + NEW))).save(keyring)
    run_swap(paths.root, _plan(paths))
    log.info("Encrypted the casebook (%d other user(s) need a new password)", len(others))
    return recovery


def _plain_users(database: Path) -> list[tuple[str, str, str, str]]:
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT name, name_key, role, password_hash FROM users")
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]
    finally:
        connection.close()


def _matches(stored: str, password: str) -> bool:
    try:
        return bool(PasswordHasher().verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _clear_leftovers(paths: DataPaths) -> None:
    """Remove what an earlier attempt wrote before its checks passed."""
    for path in (
        paths.database.with_name(paths.database.name + NEW),
        paths.keyring.with_name(paths.keyring.name + NEW),
    ):
        path.unlink(missing_ok=True)
    shutil.rmtree(paths.root / f"blobs{NEW}", ignore_errors=True)


def _export(plain: Path, target: Path, key: DataKey) -> None:
    """Copy every table (the search index too) into a new encrypted file, then check it."""
    import sqlcipher3.dbapi2 as sqlcipher

    source = sqlcipher.connect(str(plain))
    try:
        source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = {
            table: source.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in ("cases", "people", "evidence", "audit_entries")
        }
        literal = str(target).replace("'", "''")
        source.execute(f"ATTACH DATABASE '{literal}' AS encrypted KEY {key.sqlcipher_key()}")
        source.execute("SELECT sqlcipher_export('encrypted')")
        source.execute("DETACH DATABASE encrypted")
    finally:
        source.close()
    check = connect_encrypted(target, key)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise DataDirectoryError("The encrypted copy of the casebook did not pass its check.")
        for table, count in counts.items():
            if check.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] != count:
                raise DataDirectoryError(
                    "The encrypted copy of the casebook is not complete; nothing was changed."
                )
    finally:
        check.close()


def _seal_blobs(plain_root: Path, sealed_root: Path, key: DataKey) -> None:
    store = BlobStore(sealed_root, lambda: key)
    if not plain_root.is_dir():
        return
    for folder in plain_root.iterdir():
        if not folder.is_dir() or len(folder.name) != 2:
            continue
        for item in folder.iterdir():
            if not item.is_file() or len(item.name) != 62:
                continue
            data = item.read_bytes()
            sha = folder.name + item.name
            if hashlib.sha256(data).hexdigest() != sha:
                # Kept as it is: `evidence verify` will name the exhibit whose file changed.
                log.warning("A stored file did not match its hash before encryption")
            fault_point("encrypt", "in:sealed blob")
            stored = store.put_bytes(data)
            if stored.sha256 != sha and stored.path is not None:
                # Keep the record's link: a changed file is sealed under the name it had,
                # where reading it reports it damaged, as before.
                fault_point("encrypt", "in:sealed blob renamed")
                replace_file(stored.path, store.path_for(sha))


def _plan(paths: DataPaths) -> SwapPlan:
    """The checked encrypted files in, the plain ones aside and then removed."""
    database = paths.database
    plain = [database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm")]
    plain.append(paths.blobs)
    new = [database.name, paths.blobs.name, paths.keyring.name]
    # Plain copies taken before earlier migrations hold the same records in the clear.
    copies = []
    if paths.backups.is_dir():
        copies = [
            f"{paths.backups.name}/{copy.name}"
            for copy in sorted(paths.backups.glob("casebook-before-migration-*"))
            if is_plain_sqlite(copy)
        ]
    return SwapPlan(
        operation="encrypt",
        aside=ASIDE,
        moves_out=[path.name for path in plain if path.exists()],
        moves_in=[(name + NEW, name) for name in new],
        discard=[ASIDE, *copies, OLD_JOURNAL],
    )
