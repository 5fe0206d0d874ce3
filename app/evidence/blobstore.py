"""Content-addressed, write-once, encrypted storage for evidence, letters and derivatives.

Records refer to a blob by the SHA-256 of its content. On disk the blob is sealed with
the data key (AES-GCM, see ``app/security/crypto.py``) and stored under a keyed name
(``ab/cdef...``, an HMAC of the hash), so neither its bytes nor its name reveal what it
holds: a known photograph cannot be found by its hash. The supplied file name is never
used for anything on disk. A write goes to a temporary file in the same folder, is
flushed and fsynced, then atomically renamed into place, so a power cut leaves either
the whole blob or only a temporary file that the start-up sweep removes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from app.domain.errors import SignInError
from app.files import fsync_folder, replace_file
from app.security.crypto import (
    DataKey,
    SafeguardingKey,
    SealBrokenError,
    seal_blob_to,
)

log = logging.getLogger(__name__)

TEMP_PREFIX = ".incoming-"
CHUNK = 1024 * 1024
# ``put_all`` keeps this many new files open at once while they are made durable together.
BATCH_FILES = 64
# What ``hash_of_stored`` answers for a blob that is there but no longer opens with the key.
DAMAGED = "damaged"

KeySource = Callable[[], DataKey | None]


class SealKeySource(Protocol):
    """The safeguarding key (held by heads only) and its public half (held by everyone)."""

    def get_head(self) -> SafeguardingKey | None: ...
    def get_head_public(self) -> bytes | None: ...


def required_key(source: KeySource) -> DataKey:
    """The data key, or a refusal when nobody has signed in yet."""
    key = source()
    if key is None:
        raise SignInError("Sign in first to open the casebook's files.")
    return key


@dataclass(frozen=True)
class StoredBlob:
    """A blob now in the store."""

    sha256: str
    size: int
    path: Path | None  # None when the blob lives in the database
    created: bool  # False when identical content was already there


class BlobStorage(Protocol):
    """What the services need of a blob store: files in a folder, or rows in a database."""

    def exists(self, sha256: str) -> bool: ...
    def put_bytes(self, data: bytes, *, sealed: bool = False) -> StoredBlob: ...
    def put_all(self, items: Sequence[bytes], *, sealed: bool = False) -> list[StoredBlob]: ...
    def has_copy(self, sha256: str, *, sealed: bool) -> bool: ...
    def drop_copy(self, sha256: str, *, sealed: bool) -> None: ...
    def read_bytes(self, sha256: str) -> bytes: ...
    def hash_of_stored(self, sha256: str) -> str | None: ...
    def delete(self, sha256: str) -> None: ...
    def stored_names(self) -> Iterator[str]: ...
    def sweep(self, referenced: set[str], written_before: float | None = None) -> list[str]: ...


class BlobDamagedError(Exception):
    """A stored blob is there but does not open with the data key: it has been changed."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"blob {sha256} does not open with the data key")
        self.sha256 = sha256


class BlobSealedError(BlobDamagedError):
    """The file is sealed under the safeguarding key, which this user does not hold
    (as unreadable to them as a damaged one; a head teacher / DSL opens it)."""


def check_content(data: bytes, sha256: str) -> bytes:
    """``data`` if it hashes to ``sha256``; BlobDamagedError if not.

    A sealed file opens only with the data key, but two sealed files swapped on disk
    would each still open: the hash is what ties the content to its record.
    """
    if hashlib.sha256(data).hexdigest() != sha256:
        raise BlobDamagedError(sha256)
    return data


def _check_digest(sha256: str) -> None:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")


class BlobStore:
    """Immutable sealed blobs under one folder, found by the SHA-256 of their content."""

    def __init__(self, root: Path, key: KeySource, seal_keys: SealKeySource | None = None) -> None:
        self.root = root
        self._key_source = key
        self._seal_keys = seal_keys

    @property
    def key(self) -> DataKey:
        """The data key the blobs are sealed with."""
        return required_key(self._key_source)

    def path_for(self, sha256: str) -> Path:
        """Where the blob with this hash lives (whether or not it exists)."""
        _check_digest(sha256)
        return self.path_for_name(self.key.blob_name(sha256))

    def path_for_name(self, name: str) -> Path:
        """Where the blob stored under this keyed name lives."""
        return self.root / name[:2] / name[2:]

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file() or self.sealed_path_for(sha256).is_file()

    # ----- copies sealed under the safeguarding key ------------------------------------
    # A file of a safeguarding case is stored as its own copy, under a name of its own,
    # sealed (inside the data key's seal) to the safeguarding key's public half: the data
    # key alone does not open it. The same content may also be stored in clear when an
    # ordinary case holds it too.

    def sealed_path_for(self, sha256: str) -> Path:
        """Where the sealed copy of the blob with this hash lives."""
        _check_digest(sha256)
        return self.path_for_name(self.key.sealed_blob_name(sha256))

    def has_copy(self, sha256: str, *, sealed: bool) -> bool:
        """True when the sealed (or the clear) copy of this blob is stored."""
        path = self.sealed_path_for(sha256) if sealed else self.path_for(sha256)
        return path.is_file()

    def drop_copy(self, sha256: str, *, sealed: bool) -> None:
        """Remove the sealed (or the clear) copy of this blob."""
        path = self.sealed_path_for(sha256) if sealed else self.path_for(sha256)
        path.unlink(missing_ok=True)

    def _public(self) -> bytes | None:
        return self._seal_keys.get_head_public() if self._seal_keys is not None else None

    def _head(self) -> SafeguardingKey | None:
        return self._seal_keys.get_head() if self._seal_keys is not None else None

    def _read_sealed(self, sha256: str, *, check: bool = True) -> bytes:
        stored = self.sealed_path_for(sha256).read_bytes()
        try:
            inner = self.key.open_sealed(stored)
        except SealBrokenError as error:
            raise BlobDamagedError(sha256) from error
        head = self._head()
        if head is None:
            raise BlobSealedError(sha256)
        try:
            data = head.open_blob(inner)
        except SealBrokenError as error:
            raise BlobDamagedError(sha256) from error
        return check_content(data, sha256) if check else data

    def put_bytes(self, data: bytes, *, sealed: bool = False) -> StoredBlob:
        """Store ``data``; identical content is stored once (``sealed``: as a copy sealed
        under the safeguarding key)."""
        return self.put_all([data], sealed=sealed)[0]

    def put_all(self, items: Sequence[bytes], *, sealed: bool = False) -> list[StoredBlob]:
        """Store several blobs, as ``put_bytes`` would one by one, in a fraction of the time.

        Every new blob is written to a temporary file; the files are then made durable
        together (one fsync each, issued at once rather than one write at a time), renamed
        into place, and each folder's new names made durable. Only then does this return,
        so a record written after it never points to a blob a power cut could lose; a cut
        before leaves only temporary files and unreferenced blobs for the sweep. Content
        already stored (or twice in ``items``) is not written again.

        A failure removes the temporary files but leaves the blobs already renamed into
        place for the sweep: from the moment a blob is in place another program (or
        another import here) may find it and record an exhibit of it, so removing it now
        could take away the file of a record that is already saved.
        """
        public = self._public() if sealed else None
        sealed = sealed and public is not None  # a casebook from before the safeguarding key
        key = self.key
        stored: list[StoredBlob] = []
        pending: list[tuple[bytes, str, Path]] = []
        seen: set[str] = set()
        for data in items:
            sha = hashlib.sha256(data).hexdigest()
            target = self.sealed_path_for(sha) if sealed else self.path_for(sha)
            created = sha not in seen and not target.is_file()
            seen.add(sha)
            stored.append(StoredBlob(sha, len(data), target, created=created))
            if created:
                pending.append((data, sha, target))
        for start in range(0, len(pending), BATCH_FILES):
            batch = pending[start : start + BATCH_FILES]
            self._write_durably(key, public if sealed else None, batch)
        return stored

    def _write_durably(
        self, key: DataKey, public: bytes | None, batch: Sequence[tuple[bytes, str, Path]]
    ) -> list[Path]:
        self.root.mkdir(parents=True, exist_ok=True)
        temps: list[tuple[BinaryIO, Path, Path]] = []
        renamed: list[Path] = []
        try:
            for data, _sha, target in batch:
                temp = self.root / f"{TEMP_PREFIX}{secrets.token_hex(16)}"
                out = open(temp, "xb")  # noqa: SIM115 (closed below, after the fsync)
                temps.append((out, temp, target))
                plain = seal_blob_to(public, data) if public is not None else data
                for piece in key.seal_chunks(iter((plain,))):
                    out.write(piece)
                out.flush()
            # fsync waits for the disk and lets go of the interpreter lock: issued
            # together, the file system commits them in a few journal writes.
            if len(temps) == 1:
                os.fsync(temps[0][0].fileno())
            else:
                with ThreadPoolExecutor(4, thread_name_prefix="blob-fsync") as pool:
                    list(pool.map(lambda entry: os.fsync(entry[0].fileno()), temps))
            for handle, _temp, _target in temps:
                handle.close()
            for _handle, temp, target in temps:
                target.parent.mkdir(parents=True, exist_ok=True)
                replace_file(temp, target)
                renamed.append(target)
            for folder in {target.parent for target in renamed}:
                fsync_folder(folder)
        except BaseException:
            for handle, temp, _target in temps:
                handle.close()
                temp.unlink(missing_ok=True)  # gone already for those renamed into place
            raise
        return renamed

    def put_stream(self, stream: BinaryIO, max_bytes: int | None = None) -> StoredBlob:
        """Store everything read from ``stream``; refuse (ValueError) beyond ``max_bytes``."""

        def chunks() -> Iterator[bytes]:
            total = 0
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    return
                total += len(chunk)
                if max_bytes is not None and total > max_bytes:
                    raise ValueError("stream larger than the limit")
                yield chunk

        return self._put(chunks())

    def _put(self, chunks: Iterable[bytes]) -> StoredBlob:
        key = self.key
        self.root.mkdir(parents=True, exist_ok=True)
        temp = self.root / f"{TEMP_PREFIX}{secrets.token_hex(16)}"
        digest = hashlib.sha256()
        size = 0

        def hashed() -> Iterator[bytes]:
            nonlocal size
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                yield chunk

        try:
            with open(temp, "xb") as out:
                for sealed in key.seal_chunks(hashed()):
                    out.write(sealed)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path_for(sha)
            if target.is_file():
                temp.unlink()
                return StoredBlob(sha, size, target, created=False)
            target.parent.mkdir(parents=True, exist_ok=True)
            replace_file(temp, target)
            fsync_folder(target.parent)
            return StoredBlob(sha, size, target, created=True)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def read_bytes(self, sha256: str) -> bytes:
        """The blob's content, decrypted in memory; BlobDamagedError when it fails to open,
        BlobSealedError when only a sealed copy exists and this user has no key for it."""
        if self.sealed_path_for(sha256).is_file() and (
            self._head() is not None or not self.path_for(sha256).is_file()
        ):
            return self._read_sealed(sha256)
        sealed = self.path_for(sha256).read_bytes()
        try:
            data = self.key.open_sealed(sealed)
        except SealBrokenError as error:
            raise BlobDamagedError(sha256) from error
        return check_content(data, sha256)

    def open_sealed(self, name: str) -> BinaryIO:
        """The stored (sealed) bytes under a keyed name, for copying into a backup."""
        return open(self.path_for_name(name), "rb")

    def hash_of_stored(self, sha256: str) -> str | None:
        """Decrypt and re-hash the stored file; None when missing, DAMAGED when it will not
        open (changed on disk, or sealed with another key)."""
        path = self.path_for(sha256)
        if not path.is_file():
            if not self.sealed_path_for(sha256).is_file():
                return None
            try:
                self._read_sealed(sha256)
            except BlobSealedError:
                # Without the safeguarding key only the data key's seal can be checked.
                return sha256
            except BlobDamagedError:
                return DAMAGED
            return sha256
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as handle:
                for chunk in self.key.open_stream(handle):
                    digest.update(chunk)
        except SealBrokenError:
            return DAMAGED
        return digest.hexdigest()

    def delete(self, sha256: str) -> None:
        """Remove a blob, both copies (only for blobs no record refers to)."""
        self.path_for(sha256).unlink(missing_ok=True)
        self.sealed_path_for(sha256).unlink(missing_ok=True)

    def stored_names(self) -> Iterator[str]:
        """The keyed names of every complete blob in the store."""
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if not folder.is_dir() or len(folder.name) != 2:
                continue
            for item in folder.iterdir():
                if item.is_file() and len(item.name) == 62:
                    yield folder.name + item.name

    def sweep(self, referenced: set[str], written_before: float | None = None) -> list[str]:
        """Remove temporary files left by a crash and blobs no record refers to.

        At start-up nothing else can be writing (the caller holds the data folder's lock),
        so everything unreferenced goes. A sweep while the window is open passes
        ``written_before`` (the time the window started): files written since may belong
        to an import that has written its blob but not yet committed its row.
        """
        removed: list[str] = []
        if not self.root.is_dir():
            return removed

        def settled(path: Path) -> bool:
            try:
                return written_before is None or path.stat().st_mtime < written_before
            except FileNotFoundError:
                return False

        for temp in self.root.glob(f"{TEMP_PREFIX}*"):
            if settled(temp):
                temp.unlink(missing_ok=True)
                removed.append(temp.name)
        key = self.key
        wanted = {key.blob_name(sha) for sha in referenced}
        wanted |= {key.sealed_blob_name(sha) for sha in referenced}
        for name in list(self.stored_names()):
            path = self.path_for_name(name)
            if name not in wanted and settled(path):
                path.unlink(missing_ok=True)
                removed.append(name)
        if removed:
            log.info("Start-up sweep removed %d orphaned file(s)", len(removed))
        return removed
