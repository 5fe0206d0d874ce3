"""Blobs kept in the database, for a casebook shared by several PCs through PostgreSQL.

Same behaviour as the folder store (``app/evidence/blobstore.py``): content-addressed,
sealed with the data key under a keyed name, written once, committed in a transaction
of its own before the record that refers to it, so a crash leaves at most an
unreferenced blob for the sweep. The server and its backups see only sealed bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from datetime import timedelta

from sqlalchemy import delete, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import BlobRecord
from app.evidence.blobstore import (
    DAMAGED,
    BlobDamagedError,
    BlobSealedError,
    BlobStorage,
    KeySource,
    SealKeySource,
    StoredBlob,
    check_content,
    required_key,
)
from app.security.crypto import SealBrokenError, seal_blob_to
from app.services.context import ServiceContext

log = logging.getLogger(__name__)

# Another PC's blob is committed a moment before the record that refers to it; an
# unreferenced blob younger than this may be such a write in progress, so it is kept.
SWEEP_GRACE = timedelta(days=1)


def read_intact(store: BlobStorage, sha256: str) -> bytes | None:
    """The blob's bytes when it is there, opens with the key and hashes to ``sha256``.

    None when it is missing, damaged or changed: both stores check the content's hash as
    they read, so this decrypts once where ``hash_of_stored`` then reading would twice.
    """
    try:
        return store.read_bytes(sha256)
    except (OSError, BlobDamagedError):
        return None


class DatabaseBlobStore:
    """Immutable blobs named by their SHA-256 in the ``blobs`` table."""

    def __init__(
        self, ctx: ServiceContext, key: KeySource, seal_keys: SealKeySource | None = None
    ) -> None:
        self.ctx = ctx
        self._key_source = key
        self._seal_keys = seal_keys

    def _name(self, sha256: str, *, sealed: bool = False) -> str:
        key = required_key(self._key_source)
        return key.sealed_blob_name(sha256) if sealed else key.blob_name(sha256)

    def has_copy(self, sha256: str, *, sealed: bool) -> bool:
        """True when the sealed (or the clear) copy of this blob is stored."""
        name = self._name(sha256, sealed=sealed)
        with self.ctx.sessions() as session:
            found = session.scalar(select(BlobRecord.digest).where(BlobRecord.digest == name))
            return found is not None

    def drop_copy(self, sha256: str, *, sealed: bool) -> None:
        """Remove the sealed (or the clear) copy of this blob."""
        name = self._name(sha256, sealed=sealed)
        with self.ctx.sessions.begin() as session:
            session.execute(delete(BlobRecord).where(BlobRecord.digest == name))

    def exists(self, sha256: str) -> bool:
        """True when a blob with this hash is stored (in clear or sealed)."""
        return self.has_copy(sha256, sealed=False) or self.has_copy(sha256, sealed=True)

    def put_bytes(self, data: bytes, *, sealed: bool = False) -> StoredBlob:
        """Store ``data``; identical content is stored once (``sealed``: as a copy sealed
        under the safeguarding key, see the folder store)."""
        sha = hashlib.sha256(data).hexdigest()
        public = self._seal_keys.get_head_public() if self._seal_keys is not None else None
        sealed = sealed and public is not None
        if self.has_copy(sha, sealed=sealed):
            return StoredBlob(sha, len(data), None, created=False)
        key = required_key(self._key_source)
        stored = seal_blob_to(public, data) if sealed and public is not None else data
        try:
            with self.ctx.sessions.begin() as session:
                session.add(
                    BlobRecord(
                        digest=self._name(sha, sealed=sealed),
                        size=len(data),
                        data=key.seal(stored),
                        created_at=self.ctx.now(),
                    )
                )
        except IntegrityError:
            # Another PC stored the same content at the same moment.
            return StoredBlob(sha, len(data), None, created=False)
        return StoredBlob(sha, len(data), None, created=True)

    def put_all(self, items: Sequence[bytes], *, sealed: bool = False) -> list[StoredBlob]:
        """Store several blobs, each committed before this returns (see ``put_bytes``)."""
        return [self.put_bytes(data, sealed=sealed) for data in items]

    def read_bytes(self, sha256: str) -> bytes:
        """The blob's bytes; FileNotFoundError when it is missing, as for the folder store;
        BlobSealedError when only a sealed copy exists and this user has no key for it."""
        head = self._seal_keys.get_head() if self._seal_keys is not None else None
        data = None
        for sealed in (True, False) if head is not None else (False, True):
            name = self._name(sha256, sealed=sealed)
            with self.ctx.sessions() as session:
                data = session.scalar(select(BlobRecord.data).where(BlobRecord.digest == name))
            if data is not None:
                break
        if data is None:
            raise FileNotFoundError(f"blob {sha256} is not in the database")
        try:
            plain = required_key(self._key_source).open_sealed(bytes(data))
        except SealBrokenError as error:
            raise BlobDamagedError(sha256) from error
        if sealed:
            if head is None:
                raise BlobSealedError(sha256)
            try:
                plain = head.open_blob(plain)
            except SealBrokenError as error:
                raise BlobDamagedError(sha256) from error
        return check_content(plain, sha256)

    def hash_of_stored(self, sha256: str) -> str | None:
        """Decrypt and check the stored bytes; None when missing, DAMAGED when they will not
        open or do not hash to ``sha256`` (``read_bytes`` has checked the hash)."""
        try:
            self.read_bytes(sha256)
            return sha256
        except FileNotFoundError:
            return None
        except BlobSealedError:
            return sha256  # without the safeguarding key only the data key's seal is checked
        except BlobDamagedError:
            return DAMAGED

    def delete(self, sha256: str) -> None:
        """Remove a blob, both copies (only for blobs no record refers to)."""
        names = [self._name(sha256), self._name(sha256, sealed=True)]
        with self.ctx.sessions.begin() as session:
            session.execute(delete(BlobRecord).where(BlobRecord.digest.in_(names)))

    def stored_names(self) -> Iterator[str]:
        """The keyed names of every blob in the store (the content hashes cannot be read
        back from them)."""
        with self.ctx.sessions() as session:
            yield from list(session.scalars(select(BlobRecord.digest)))

    def sweep(self, referenced: set[str], written_before: float | None = None) -> list[str]:
        """Remove blobs no record has referred to for a day.

        Other PCs may be writing at any time, so the day's grace always applies, whatever
        ``written_before`` this PC passes.
        """
        cutoff = self.ctx.now() - SWEEP_GRACE
        with self.ctx.sessions() as session:
            old = list(
                session.scalars(select(BlobRecord.digest).where(BlobRecord.created_at < cutoff))
            )
        key = required_key(self._key_source)
        wanted = {key.blob_name(sha) for sha in referenced}
        wanted |= {key.sealed_blob_name(sha) for sha in referenced}
        removed = [name for name in old if name not in wanted]
        for name in removed:
            with self.ctx.sessions.begin() as session:
                session.execute(delete(BlobRecord).where(BlobRecord.digest == name))
        if removed:
            log.info("Sweep removed %d unreferenced blob(s) from the database", len(removed))
        return removed


def referenced_blob_hashes(session: Session) -> set[str]:
    """Every blob hash any table refers to.

    Other features (letters, bundles) keep their files in the same store; any column
    named ``sha256`` or ending in ``_sha256`` counts as a reference, and so does any field
    so named in a setting kept as a JSON object (the school profile's logo and signature),
    so the start-up sweep never removes a file that something still points to.
    """
    found: set[str] = set()
    for table, name in _hash_columns(session):
        rows = session.execute(text(f'SELECT DISTINCT "{name}" FROM "{table}"'))
        found.update(str(value) for (value,) in rows if value)
    found |= _setting_hashes(session)
    return found


def _setting_hashes(session: Session) -> set[str]:
    """The hashes named in settings kept as JSON objects (fields ``sha256``, ``*_sha256``).

    Read here rather than by asking the letters service for its profile: the sweep runs at
    every command's sign-in, and importing that service (its templates, Jinja) cost each
    command a few dozen milliseconds."""
    found: set[str] = set()
    rows = session.execute(text("SELECT value FROM settings WHERE value LIKE '%sha256%'"))
    for (value,) in rows:
        try:
            data = json.loads(value)
        except (TypeError, ValueError):
            continue
        if isinstance(data, dict):
            found.update(
                item
                for key, item in data.items()
                if (key == "sha256" or str(key).endswith("_sha256"))
                and isinstance(item, str)
                and item
            )
    return found


def _hash_columns(session: Session) -> list[tuple[str, str]]:
    """(table, column) of every column holding a blob hash."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        # One query instead of the inspector's one per table: this runs at every start.
        rows = session.execute(
            text(
                "SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c "
                "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite~_%' ESCAPE '~' "
                "AND (c.name = 'sha256' OR c.name GLOB '*_sha256') ORDER BY m.name"
            )
        )
        return [(str(table), str(name)) for table, name in rows]
    if bind.dialect.name == "postgresql":
        # One small catalogue query: the inspector's three large ones and the work on
        # their answers took about 60 ms at every start, beside the window's first paint.
        rows = session.execute(
            text(
                "SELECT c.relname, a.attname FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "AND a.attnum > 0 AND NOT a.attisdropped "
                "AND (a.attname = 'sha256' OR a.attname LIKE '%\\_sha256') ORDER BY 1, 2"
            )
        )
        return [(str(table), str(name)) for table, name in rows]
    # Every table's columns at once, on the session's own connection: a server answered a
    # catalogue query per table, on a connection of its own, at every start.
    inspector = inspect(session.connection())
    return [
        (table, str(column["name"]))
        for (_schema, table), columns in inspector.get_multi_columns().items()
        for column in columns
        if str(column["name"]) == "sha256" or str(column["name"]).endswith("_sha256")
    ]
