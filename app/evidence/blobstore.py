"""Content-addressed, write-once storage for evidence, letters and their derivatives.

A blob is stored under its SHA-256 (``ab/cdef...``); the supplied file name is never used
for anything on disk. A write goes to a temporary file in the same folder, is flushed
and fsynced, then atomically renamed into place, so a power cut leaves either the whole
blob or only a temporary file that the start-up sweep removes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

log = logging.getLogger(__name__)

TEMP_PREFIX = ".incoming-"
CHUNK = 1024 * 1024


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
    def put_bytes(self, data: bytes) -> StoredBlob: ...
    def read_bytes(self, sha256: str) -> bytes: ...
    def hash_of_stored(self, sha256: str) -> str | None: ...
    def delete(self, sha256: str) -> None: ...
    def all_hashes(self) -> Iterator[str]: ...
    def sweep(self, referenced: set[str], written_before: float | None = None) -> list[str]: ...


def _fsync_dir(folder: Path) -> None:
    # Directory fsync makes the rename itself durable; Windows has no such call.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Immutable blobs named by their SHA-256 under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        """Where the blob with this hash lives (whether or not it exists)."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_bytes(self, data: bytes) -> StoredBlob:
        """Store ``data``; identical content is stored once."""
        return self._put(iter((data,)))

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
        self.root.mkdir(parents=True, exist_ok=True)
        temp = self.root / f"{TEMP_PREFIX}{secrets.token_hex(16)}"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(temp, "xb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path_for(sha)
            if target.is_file():
                temp.unlink()
                return StoredBlob(sha, size, target, created=False)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
            _fsync_dir(target.parent)
            return StoredBlob(sha, size, target, created=True)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def read_bytes(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path_for(sha256), "rb")

    def hash_of_stored(self, sha256: str) -> str | None:
        """Re-hash the stored file; None when it is missing."""
        path = self.path_for(sha256)
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def delete(self, sha256: str) -> None:
        """Remove a blob (only for blobs no record refers to)."""
        self.path_for(sha256).unlink(missing_ok=True)

    def all_hashes(self) -> Iterator[str]:
        """Every complete blob in the store."""
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
        for sha in list(self.all_hashes()):
            if sha not in referenced and settled(self.path_for(sha)):
                self.delete(sha)
                removed.append(sha)
        if removed:
            log.info("Start-up sweep removed %d orphaned file(s)", len(removed))
        return removed
