"""Encrypting a casebook made by a test version from before encryption at rest.

Such a folder has a plain SQLite database, blobs stored in the clear under their SHA-256,
and no keyring. The head teacher signs in with the password of that version (checked
against its Argon2id hash); then everything is written again, encrypted, beside the old
files, checked, and swapped in. The swap is recorded in a journal first, so a power cut
part-way is finished at the next start; the plain files are removed at the end.

Other users keep their accounts and roles but have no copy of the new key yet: the head
teacher gives each a new password (Administration › Users, or ``casebook users
set-password``), and until then their sign-in says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
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
from app.security.crypto import DataKey, SafeguardingKey
from app.security.keyring import RECOVERY, Keyring, KeyringFile, KeyringStore, user_key
from app.services.keys import AWAITING_NOTE, normalise_recovery_key

log = logging.getLogger(__name__)

NEW = ".encrypting"
JOURNAL = "encryption-in-progress"


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
    """Complete a swap that a power cut interrupted (every new file was already checked)."""
    if (paths.root / JOURNAL).exists():
        log.warning("Finishing the encryption of the casebook that was interrupted")
        _swap(paths)


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
    recovery = new_recovery_key()
    head_key = SafeguardingKey.new()
    keyring = Keyring.new(key, head_key)
    keyring.add_account(RECOVERY, normalise_recovery_key(recovery), key, head_key=head_key)
    keyring.add_account(match[0], password, key, head_key=head_key)
    others = [u[0] for u in users if u[1] != wanted]
    if others:
        keyring.notes[AWAITING_NOTE] = "\n".join(user_key(other) for other in others)
    KeyringStore(KeyringFile(paths.keyring.with_name(paths.keyring.name + NEW))).save(keyring)
    (paths.root / JOURNAL).write_text("swap\n", encoding="ascii")
    _swap(paths)
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
            stored = store.put_bytes(data)
            if stored.sha256 != sha and stored.path is not None:
                # Keep the record's link: a changed file is sealed under the name it had,
                # where reading it reports it damaged, as before.
                os.replace(stored.path, store.path_for(sha))


def _swap(paths: DataPaths) -> None:
    """Swap the checked encrypted files in, then remove every plain copy."""
    database = paths.database
    aside = paths.root / "plain-before-encryption"
    aside.mkdir(exist_ok=True)
    new_db = database.with_name(database.name + NEW)
    new_blobs = paths.root / f"blobs{NEW}"
    new_keys = paths.keyring.with_name(paths.keyring.name + NEW)
    if new_db.exists():
        for suffix in ("", "-wal", "-shm"):
            path = database.with_name(database.name + suffix)
            if path.exists():
                os.replace(path, aside / path.name)
        os.replace(new_db, database)
    if new_blobs.exists():
        if paths.blobs.exists():
            os.replace(paths.blobs, aside / "blobs")
        os.replace(new_blobs, paths.blobs)
    if new_keys.exists():
        os.replace(new_keys, paths.keyring)
    # Plain copies taken before earlier migrations hold the same records in the clear.
    if paths.backups.is_dir():
        for copy in paths.backups.glob("casebook-before-migration-*"):
            if is_plain_sqlite(copy):
                copy.unlink()
    shutil.rmtree(aside, ignore_errors=True)
    (paths.root / JOURNAL).unlink(missing_ok=True)
