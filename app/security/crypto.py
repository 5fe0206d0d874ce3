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

import base64
import hashlib
import hmac
import os
import struct
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
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


def threads_beside_python(lanes: int) -> int:
    """How many threads Argon2id's lanes share while the interpreter works beside them.

    The lanes (the cost's parallelism, which the key depends on) need not each have a
    thread: on a PC with two cores, four threads would take turns with the interpreter
    on the same two cores and slow both, while one thread leaves the interpreter a core
    of its own. The derivation, and so the key, is the same either way.
    """
    spare = (os.cpu_count() or 1) - 1
    return max(1, min(lanes, spare))


def derive_on_threads(secret: bytes, salt: bytes, cost: KdfCost, threads: int) -> bytes:
    """The key :func:`derive_key` makes, with the lanes computed on ``threads`` threads.

    argon2-cffi's own functions always give each lane a thread; its binding of the
    reference implementation's ``argon2_ctx`` takes the thread count separately. The
    result depends only on the secret, salt and costs (RFC 9106), which the test of the
    early derivation checks against :func:`derive_key`.
    """
    from argon2.low_level import ARGON2_VERSION, core, error_to_str, ffi

    out = ffi.new("uint8_t[]", KEY_BYTES)
    secret_buffer = ffi.new("uint8_t[]", secret)
    salt_buffer = ffi.new("uint8_t[]", salt)
    context = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": KEY_BYTES,
            "pwd": secret_buffer,
            "pwdlen": len(secret),
            "salt": salt_buffer,
            "saltlen": len(salt),
            "secret": ffi.NULL,
            "secretlen": 0,
            "ad": ffi.NULL,
            "adlen": 0,
            "t_cost": cost.time_cost,
            "m_cost": cost.memory_kib,
            "lanes": cost.parallelism,
            "threads": max(1, min(threads, cost.parallelism)),
            "version": ARGON2_VERSION,
            "allocate_cbk": ffi.NULL,
            "free_cbk": ffi.NULL,
            "flags": 0,  # ARGON2_DEFAULT_FLAGS, as argon2_hash uses
        },
    )
    failed = core(context, Type.ID.value)
    if failed:
        raise ValueError(f"Argon2id failed: {error_to_str(failed)}")
    return bytes(ffi.buffer(out, KEY_BYTES))


class DerivationAhead:
    """Argon2id for one password, started on a thread as soon as the password and its
    wrap's salt are known, so that it runs beside the rest of the start (imports, opening
    the database) instead of after it. The derivation is the same, at the same cost; its
    result is given only for exactly the same secret, salt and cost (:meth:`key_for`), and
    the wrong-password count, back-off and lock are applied by the caller as before."""

    def __init__(self, secret: str, salt: bytes, cost: KdfCost) -> None:
        self._secret = secret.encode("utf-8")
        self._salt = salt
        self._cost = cost
        self._key: bytes | None = None
        # A daemon thread: a command refused before it signs in does not wait for it.
        self._thread = threading.Thread(target=self._derive, name="argon2id", daemon=True)
        self._thread.start()

    def _derive(self) -> None:
        # Argon2id runs in C without the interpreter lock, so Python goes on meanwhile.
        self._key = derive_on_threads(
            self._secret, self._salt, self._cost, threads_beside_python(self._cost.parallelism)
        )

    def key_for(self, secret: str, salt: bytes, cost: KdfCost) -> bytes | None:
        """The derived key if it was derived from these inputs (waiting for it), else None."""
        same = hmac.compare_digest(secret.encode("utf-8"), self._secret)
        if not (same and salt == self._salt and cost == self._cost):
            return None
        self._thread.join()
        return self._key  # None if the derivation failed: the caller derives and reports


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

    def sealed_blob_name(self, sha256: str) -> str:
        """The stored name of a blob's copy sealed under the safeguarding key: a name of its
        own, so the same content may also be stored in clear for an ordinary case."""
        return self._mac(b"sealed blob name", sha256.encode("ascii")).hex()

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


# ----- the safeguarding key ----------------------------------------------------------------
#
# A second key, held only by head teacher / DSL accounts and the recovery key: an X25519
# private key. Its public half is kept in the keyring, so that anyone signed in (office
# staff open safeguarding cases too) can seal the words of a safeguarding record, field by
# field (``seal_text_to``), while only its holders can open them (``open_text``). Its
# private bytes also authenticate the users' records (``record_mac``): neither an office
# password nor the data key opens or forges them.

SEALED_PREFIX = "\x01sg2:"
_EPHEMERAL_BYTES = 32


class SafeguardingKey(DataKey):
    """The key of safeguarding records; wrapped only for heads and the recovery key."""

    __slots__ = ("_opened", "_private", "_public")

    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        self._private = X25519PrivateKey.from_private_bytes(key)
        self._public = self._private.public_key().public_bytes_raw()
        # Tokens already opened in this process: a list of cases opens the same ones often.
        self._opened: dict[tuple[str, str], str] = {}

    @classmethod
    def new(cls) -> SafeguardingKey:
        """A fresh random key."""
        return cls(X25519PrivateKey.generate().private_bytes_raw())

    def __repr__(self) -> str:  # never print the key into a log
        return "SafeguardingKey(…)"

    def public(self) -> bytes:
        """The public half, which seals records for the key's holders."""
        return self._public

    def open_text(self, token: str, label: str) -> str:
        """The text of a sealed token; SealBrokenError when it was changed or moved."""
        known = self._opened.get((token, label))
        if known is not None:
            return known
        try:
            raw = base64.b64decode(token[len(SEALED_PREFIX) :].encode("ascii"), validate=True)
            ephemeral, nonce, sealed = raw[:_EPHEMERAL_BYTES], raw[32:44], raw[44:]
            shared = self._private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
            cipher = AESGCM(_text_key(shared, ephemeral, self._public))
            plain = cipher.decrypt(nonce, sealed, label.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError):
            raise SealBrokenError(f"a sealed {label} does not authenticate") from None
        if len(self._opened) > 20_000:
            self._opened.clear()
        self._opened[(token, label)] = plain
        return plain

    def open_blob(self, stored: bytes) -> bytes:
        """The content of a blob sealed with ``seal_blob_to``; SealBrokenError if changed."""
        if not stored.startswith(BLOB_SEAL_MAGIC) or len(stored) < 6:
            raise SealBrokenError("not a sealed safeguarding file")
        length = struct.unpack(">H", stored[4:6])[0]
        token = stored[6 : 6 + length].decode("ascii", errors="replace")
        try:
            file_key = DataKey(bytes.fromhex(self.open_text(token, "blob key")))
        except ValueError:
            raise SealBrokenError("the file key does not open") from None
        return file_key.open_sealed(stored[6 + length :])

    def record_mac(self, *fields: str) -> str:
        """A MAC over a record's fields (users and roles), which office staff cannot make."""
        return self._mac(b"user record", "\x1f".join(fields).encode("utf-8")).hex()


def _text_key(shared: bytes, ephemeral: bytes, public: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=ephemeral + public, info=b"field")
    return hkdf.derive(shared)


def seal_text_to(public: bytes, text: str, label: str) -> str:
    """``text`` sealed to the safeguarding key's public half; ``label`` (the column) is bound
    into it, so a token cannot be moved to another column unnoticed."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    nonce = os.urandom(12)
    sealed = AESGCM(_text_key(shared, ephemeral_public, public)).encrypt(
        nonce, text.encode("utf-8"), label.encode("utf-8")
    )
    return SEALED_PREFIX + base64.b64encode(ephemeral_public + nonce + sealed).decode("ascii")


BLOB_SEAL_MAGIC = b"CBS1"


def seal_blob_to(public: bytes, data: bytes) -> bytes:
    """A file's content sealed to the safeguarding key's public half: a random file key,
    itself sealed to that public half, then the content in the sealed-blob format."""
    file_key = DataKey.new()
    token = seal_text_to(public, file_key.raw.hex(), "blob key").encode("ascii")
    return BLOB_SEAL_MAGIC + struct.pack(">H", len(token)) + token + file_key.seal(data)


def is_sealed_text(value: object) -> bool:
    """True for a value stored as a sealed token."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


# ----- handing the safeguarding key to one account ------------------------------------------
#
# Every account has its own X25519 key pair; the private half is wrapped under the
# account's password key like the data key. A head teacher gives the safeguarding key to
# another account (made head, or a new recovery key) by sealing it to that account's public
# half, without knowing its password. The seal is labelled with the account and the role,
# so it cannot be moved to another account, and only someone holding the key can make one.


def new_key_pair() -> tuple[bytes, bytes]:
    """(private, public) raw X25519 keys for one account."""
    private = X25519PrivateKey.generate()
    return (
        private.private_bytes_raw(),
        private.public_key().public_bytes_raw(),
    )


def _box_key(shared: bytes, ephemeral: bytes, public: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=ephemeral + public, info=b"box")
    return hkdf.derive(shared)


def box_bytes(public: bytes, secret: bytes, label: str) -> tuple[bytes, bytes, bytes]:
    """(ephemeral public, nonce, ciphertext): ``secret`` sealed to an account's public key."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    nonce = os.urandom(12)
    sealed = AESGCM(_box_key(shared, ephemeral_public, public)).encrypt(
        nonce, secret, label.encode("utf-8")
    )
    return ephemeral_public, nonce, sealed


def unbox_bytes(
    private: bytes, ephemeral_public: bytes, nonce: bytes, sealed: bytes, label: str
) -> bytes:
    """A secret sealed by ``box_bytes`` to this account; WrongKeyError when it does not open."""
    try:
        secret = X25519PrivateKey.from_private_bytes(private)
        public = secret.public_key().public_bytes_raw()
        shared = secret.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        return AESGCM(_box_key(shared, ephemeral_public, public)).decrypt(
            nonce, sealed, label.encode("utf-8")
        )
    except (InvalidTag, ValueError):
        raise WrongKeyError("the seal does not open") from None


def box_key(public: bytes, key: DataKey, label: str) -> tuple[bytes, bytes, bytes]:
    """(ephemeral public, nonce, ciphertext): ``key`` sealed to an account's public key."""
    return box_bytes(public, key.raw, label)


def unbox_key(
    private: bytes, ephemeral_public: bytes, nonce: bytes, sealed: bytes, label: str
) -> SafeguardingKey:
    """The safeguarding key sealed to this account; WrongKeyError when it does not open."""
    try:
        return SafeguardingKey(unbox_bytes(private, ephemeral_public, nonce, sealed, label))
    except (WrongKeyError, ValueError):
        raise WrongKeyError("the safeguarding key's seal does not open") from None


def wrap_bytes(kek: bytes, secret: bytes, label: str) -> tuple[bytes, bytes]:
    """Encrypt a small secret (an account's private key) under a key-encryption key."""
    nonce = os.urandom(12)
    return nonce, AESGCM(kek).encrypt(nonce, secret, label.encode("utf-8"))


def unwrap_bytes(kek: bytes, nonce: bytes, wrapped: bytes, label: str) -> bytes:
    """A small secret from its wrapped copy; WrongKeyError when it does not open."""
    try:
        return AESGCM(kek).decrypt(nonce, wrapped, label.encode("utf-8"))
    except (InvalidTag, ValueError):
        raise WrongKeyError("the key does not open this wrap") from None
