"""Blobs kept in the database, for a casebook shared by several PCs through PostgreSQL.

Same behaviour as the folder store (``app/evidence/blobstore.py``): content-addressed,
sealed with the data key under a keyed name, written once, committed in a transaction
of its own before the record that refers to it, so a crash leaves at most an
unreferenced blob for the sweep. The server and its backups see only sealed bytes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.db.models import BlobRecord
from app.evidence.blobstore import (
    DAMAGED,
    BlobDamagedError,
    BlobStorage,
    KeySource,
    StoredBlob,
    check_content,
    required_key,
)
from app.security.crypto import SealBrokenError
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

    def __init__(self, ctx: ServiceContext, key: KeySource) -> None:
        self.ctx = ctx
        self._key_source = key

    def _name(self, sha256: str) -> str:
        return required_key(self._key_source).blob_name(sha256)

    def exists(self, sha256: str) -> bool:
        """True when a blob with this hash is stored."""
        name = self._name(sha256)
        with self.ctx.sessions() as session:
            found = session.scalar(select(BlobRecord.digest).where(BlobRecord.digest == name))
            return found is not None

    def put_bytes(self, data: bytes) -> StoredBlob:
        """Store ``data``; identical content is stored once."""
        sha = hashlib.sha256(data).hexdigest()
        if self.exists(sha):
            return StoredBlob(sha, len(data), None, created=False)
        key = required_key(self._key_source)
        try:
            with self.ctx.sessions.begin() as session:
                session.add(
                    BlobRecord(
                        digest=key.blob_name(sha),
                        size=len(data),
                        data=key.seal(data),
                        created_at=self.ctx.now(),
                    )
                )
        except IntegrityError:
            # Another PC stored the same content at the same moment.
            return StoredBlob(sha, len(data), None, created=False)
        return StoredBlob(sha, len(data), None, created=True)

    def read_bytes(self, sha256: str) -> bytes:
        """The blob's bytes; FileNotFoundError when it is missing, as for the folder store."""
        name = self._name(sha256)
        with self.ctx.sessions() as session:
            data = session.scalar(select(BlobRecord.data).where(BlobRecord.digest == name))
        if data is None:
            raise FileNotFoundError(f"blob {sha256} is not in the database")
        try:
            plain = required_key(self._key_source).open_sealed(bytes(data))
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
        except BlobDamagedError:
            return DAMAGED

    def delete(self, sha256: str) -> None:
        """Remove a blob (only for blobs no record refers to)."""
        name = self._name(sha256)
        with self.ctx.sessions.begin() as session:
            session.execute(delete(BlobRecord).where(BlobRecord.digest == name))

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
        removed = [name for name in old if name not in wanted]
        for name in removed:
            with self.ctx.sessions.begin() as session:
                session.execute(delete(BlobRecord).where(BlobRecord.digest == name))
        if removed:
            log.info("Sweep removed %d unreferenced blob(s) from the database", len(removed))
        return removed
