"""The data key and what it seals: blobs (AES-GCM in chunks) and wrapped copies of itself.

One random 256-bit data key encrypts the database (SQLCipher, as a raw key, so opening
costs no key stretching) and every blob. It never touches the disk in the clear: the
keyring holds it wrapped (AES-GCM) under a key derived with Argon2id from each user's
password, and once more under the recovery key.

A sealed blob is ``MAGIC`` + a 16-byte random file id, then the content in 1 MiB chunks,
each encrypted with a key derived for this file (HKDF over the file id) and a counter
nonce; the chunk number and a last-chunk flag are authenticated, so a reordered,
truncated or extended file fails to open rather than opening wrongly.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"CBX1"
FILE_ID_BYTES = 16
HEADER_BYTES = len(MAGIC) + FILE_ID_BYTES
CHUNK = 1024 * 1024
TAG_BYTES = 16
KEY_BYTES = 32


class WrongKeyError(Exception):
    """A wrapped key did not open: the password or recovery key is not the right one."""


class SealBrokenError(Exception):
    """A sealed file did not open with the right key: it has been changed or damaged."""


@dataclass(frozen=True)
class KdfCost:
    """Argon2id costs for deriving a key from a password (stored beside each wrap)."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4

    def as_dict(self) -> dict[str, int]:
        """The costs as stored in the keyring."""
        return {"t": self.time_cost, "m": self.memory_kib, "p": self.parallelism}

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> KdfCost:
        """The costs read back from the keyring."""
        return cls(int(data["t"]), int(data["m"]), int(data["p"]))


# The library's recommended costs (RFC 9106's second choice): about 0.1 s on an office PC.
DEFAULT_COST = KdfCost()


def derive_key(secret: str, salt: bytes, cost: KdfCost = DEFAULT_COST) -> bytes:
    """A 256-bit key from a password or recovery key (Argon2id)."""
    return hash_secret_raw(
        secret.encode("utf-8"),
        salt,
        time_cost=cost.time_cost,
        memory_cost=cost.memory_kib,
        parallelism=cost.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


class DataKey:
    """The casebook's data key. Its bytes are never written out except wrapped."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        self._key = key

    @classmethod
    def new(cls) -> DataKey:
        """A fresh random key."""
        return cls(os.urandom(KEY_BYTES))

    def __repr__(self) -> str:  # never print the key into a log
        return "DataKey(…)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataKey) and hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(self.check_value())

    @property
    def raw(self) -> bytes:
        """The key's bytes, for SQLCipher and wrapping only."""
        return self._key

    def sqlcipher_key(self) -> str:
        """The value for ``PRAGMA key``: a raw key, so SQLCipher skips its own stretching."""
        return f"\"x'{self._key.hex()}'\""

    def _mac(self, purpose: bytes, data: bytes) -> bytes:
        return hmac.new(self._key, purpose + b"\0" + data, hashlib.sha256).digest()

    def check_value(self) -> str:
        """A value that identifies the key without revealing it (stored in the keyring)."""
        return self._mac(b"key check", b"").hex()[:32]

    def blob_name(self, sha256: str) -> str:
        """The stored name of a blob: keyed, so a known file's hash cannot be looked for."""
        return self._mac(b"blob name", sha256.encode("ascii")).hex()

    def sign(self, data: bytes) -> str:
        """A MAC over ``data`` (backup manifests)."""
        return self._mac(b"manifest", data).hex()

    # ----- sealed blobs -----------------------------------------------------------------

    def _file_cipher(self, file_id: bytes) -> AESGCM:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=file_id, info=b"blob")
        return AESGCM(hkdf.derive(self._key))

    def seal_chunks(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Encrypt a stream of plaintext chunks into the sealed format, piece by piece."""
        file_id = os.urandom(FILE_ID_BYTES)
        header = MAGIC + file_id
        cipher = self._file_cipher(file_id)
        yield header
        buffer = b""
        index = 0
        for chunk in chunks:
            buffer += chunk
            while len(buffer) > CHUNK:
                piece, buffer = buffer[:CHUNK], buffer[CHUNK:]
                yield _encrypt(cipher, header, index, piece, last=False)
                index += 1
        yield _encrypt(cipher, header, index, buffer, last=True)

    def seal(self, data: bytes) -> bytes:
        """The sealed form of ``data``."""
        return b"".join(self.seal_chunks((data,)))

    def open_sealed(self, sealed: bytes) -> bytes:
        """The plaintext of a sealed blob; SealBrokenError when it has been changed."""
        return b"".join(self.open_stream(_BytesReader(sealed)))

    def open_stream(self, stream: BinaryIO | _BytesReader) -> Iterator[bytes]:
        """Decrypt a sealed stream chunk by chunk; SealBrokenError when it has been changed."""
        header = stream.read(HEADER_BYTES)
        if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
            raise SealBrokenError("not a sealed file")
        cipher = self._file_cipher(header[len(MAGIC) :])
        index = 0
        piece = stream.read(CHUNK + TAG_BYTES)
        while True:
            following = stream.read(CHUNK + TAG_BYTES) if len(piece) == CHUNK + TAG_BYTES else b""
            last = not following
            yield _decrypt(cipher, header, index, piece, last=last)
            if last:
                return
            piece = following
            index += 1


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def read(self, size: int) -> bytes:
        out = bytes(self._view[self._at : self._at + size])
        self._at += len(out)
        return out


def _nonce_and_aad(header: bytes, index: int, last: bool) -> tuple[bytes, bytes]:
    return struct.pack(">4xQ", index), header + struct.pack(">Q?", index, last)


def _encrypt(cipher: AESGCM, header: bytes, index: int, piece: bytes, *, last: bool) -> bytes:
    nonce, aad = _nonce_and_aad(header, index, last)
    return cipher.encrypt(nonce, piece, aad)


def _decrypt(cipher: AESGCM, header: bytes, index: int, piece: bytes, *, last: bool) -> bytes:
    nonce, aad = _nonce_and_aad(header, index, last)
    try:
        return cipher.decrypt(nonce, piece, aad)
    except InvalidTag:
        raise SealBrokenError(f"chunk {index} does not authenticate") from None


def sealed_size(plain_size: int) -> int:
    """How many bytes a sealed blob of ``plain_size`` takes on disk."""
    chunks = max(1, -(-plain_size // CHUNK))
    return HEADER_BYTES + plain_size + chunks * TAG_BYTES


# ----- wrapping the data key ---------------------------------------------------------------


def wrap_key(kek: bytes, key: DataKey, label: str) -> tuple[bytes, bytes]:
    """Encrypt the data key under a key-encryption key; ``label`` binds it to its owner."""
    nonce = os.urandom(12)
    return nonce, AESGCM(kek).encrypt(nonce, key.raw, label.encode("utf-8"))


def unwrap_key(kek: bytes, nonce: bytes, wrapped: bytes, label: str) -> DataKey:
    """The data key from its wrapped copy; WrongKeyError when the secret was not right."""
    try:
        return DataKey(AESGCM(kek).decrypt(nonce, wrapped, label.encode("utf-8")))
    except (InvalidTag, ValueError):
        raise WrongKeyError("the key does not open this wrap") from None
