"""The audit trail's keys: a forward-secure key per entry, the head teachers' audit key,
and a key per case that seals what an entry says about the case.

- Every entry is MACed (HMAC-SHA-256) with its own key; the key of the next entry is the
  hash of this one's (a ratchet). Whoever writes entries (office staff too) holds only the
  key of the next entry, which cannot be turned back into the keys of earlier ones.
- The head teachers' audit key (held wrapped for head teachers and the recovery key only)
  MACs the checkpoints and seals the starting key of each run of entries, so a head
  teacher can re-derive every entry's key and check it; nobody else can.
- A case's key seals the details of the entries about it (titles, names, file names);
  deleting the case destroys the key, and the sealed details can never be read again,
  while the chain over their sealed form still checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.security.crypto import KEY_BYTES, SealBrokenError, WrongKeyError, box_bytes, unbox_bytes

SEALED_PREFIX = "sealed:"


def _hkdf(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(key)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# ----- the ratchet over entries ----------------------------------------------------------


def new_entry_key() -> bytes:
    """A fresh starting key for a run of entries."""
    return os.urandom(KEY_BYTES)


def next_entry_key(key: bytes) -> bytes:
    """The key of the next entry: one-way, so it never gives back this one."""
    return hashlib.sha256(b"conduct-casebook audit ratchet\0" + key).digest()


def entry_key_after(key: bytes, steps: int) -> bytes:
    """The key ``steps`` entries further on."""
    for _ in range(steps):
        key = next_entry_key(key)
    return key


def entry_mac(key: bytes, seq: int, digest: str) -> str:
    """The MAC of entry ``seq`` whose chained hash is ``digest``."""
    message = f"audit entry\0{seq}\0{digest}".encode("ascii")
    return hmac.digest(key, message, "sha256").hex()


def macs_equal(a: str | None, b: str | None) -> bool:
    """Compare two MACs in constant time (None never matches)."""
    return a is not None and b is not None and hmac.compare_digest(a, b)


# ----- the head teachers' audit key ------------------------------------------------------


def unlock_key(kek: bytes) -> bytes:
    """The key that opens a user's copy of the audit key, from their password's KEK."""
    return _hkdf(kek, b"conduct-casebook audit key wrap")


class AuditKey:
    """The head teachers' audit key. Its bytes are never written out except wrapped."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("an audit key is 32 bytes")
        self._key = key

    @classmethod
    def new(cls) -> AuditKey:
        """A fresh random audit key."""
        return cls(os.urandom(KEY_BYTES))

    def __repr__(self) -> str:  # never print the key into a log
        return "AuditKey(…)"

    def check_value(self) -> str:
        """Identifies the key without revealing it."""
        return hmac.new(self._key, b"audit key check", hashlib.sha256).hexdigest()[:32]

    def checkpoint_mac(self, fields: list[Any]) -> str:
        """The MAC of a checkpoint's fields."""
        message = json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode("ascii")
        return hmac.new(_hkdf(self._key, b"checkpoint"), message, hashlib.sha256).hexdigest()

    def seal_entry_key(self, entry_key: bytes, seq: int) -> str:
        """The starting key of the run after checkpoint ``seq``, sealed for head teachers."""
        nonce = os.urandom(12)
        cipher = AESGCM(_hkdf(self._key, b"entry keys"))
        return _b64(nonce + cipher.encrypt(nonce, entry_key, f"after {seq}".encode("ascii")))

    def open_entry_key(self, sealed: str, seq: int) -> bytes:
        """The starting key sealed by ``seal_entry_key``; SealBrokenError when altered."""
        try:
            raw = _unb64(sealed)
            cipher = AESGCM(_hkdf(self._key, b"entry keys"))
            return cipher.decrypt(raw[:12], raw[12:], f"after {seq}".encode("ascii"))
        except (InvalidTag, ValueError) as error:
            raise SealBrokenError("the sealed starting key does not open") from error

    def box(self, public: bytes, slot: str) -> dict[str, str]:
        """This key sealed to an account's public key: for a head teacher appointed while
        their password was not being set, until their next sign-in wraps it (``wrap``)."""
        ephemeral, nonce, sealed = box_bytes(public, self._key, _box_label(slot, public))
        return {
            "pub": _b64(public),
            "eph": _b64(ephemeral),
            "nonce": _b64(nonce),
            "sealed": _b64(sealed),
        }

    @classmethod
    def unbox(cls, private: bytes, public: bytes, slot: str, box: dict[str, str]) -> AuditKey:
        """The audit key from ``box``; WrongKeyError when it does not open."""
        try:
            raw = unbox_bytes(
                private,
                _unb64(box["eph"]),
                _unb64(box["nonce"]),
                _unb64(box["sealed"]),
                _box_label(slot, public),
            )
            return cls(raw)
        except (KeyError, ValueError) as error:
            raise WrongKeyError("the audit key's seal does not open") from error

    def wrap(self, unlock: bytes, slot: str) -> dict[str, str]:
        """This key wrapped under a user's unlock key (``unlock_key``)."""
        nonce = os.urandom(12)
        aad = f"audit key for {slot}".encode()
        return {
            "nonce": _b64(nonce),
            "wrapped": _b64(AESGCM(unlock).encrypt(nonce, self._key, aad)),
        }

    @classmethod
    def unwrap(cls, unlock: bytes, slot: str, wrap: dict[str, str]) -> AuditKey:
        """The audit key from a user's copy; WrongKeyError when it does not open."""
        try:
            aad = f"audit key for {slot}".encode()
            raw = AESGCM(unlock).decrypt(_unb64(wrap["nonce"]), _unb64(wrap["wrapped"]), aad)
            return cls(raw)
        except (InvalidTag, ValueError, KeyError, TypeError) as error:
            raise WrongKeyError("this copy of the audit key does not open") from error


# ----- a case's key for the details of its entries -----------------------------------------


def new_case_key() -> str:
    """A fresh key for the details of one case's entries (hex, kept in the database)."""
    return os.urandom(KEY_BYTES).hex()


def seal_detail(case_key: str, reference: str, detail: str) -> str:
    """``detail`` sealed under the case's key, bound to its reference."""
    nonce = os.urandom(12)
    sealed = AESGCM(bytes.fromhex(case_key)).encrypt(
        nonce, detail.encode("utf-8"), reference.encode("ascii", "replace")
    )
    return SEALED_PREFIX + _b64(nonce + sealed)


def open_detail(case_key: str, reference: str, stored: str) -> str:
    """The detail sealed by ``seal_detail``; SealBrokenError when it does not open."""
    try:
        raw = _unb64(stored[len(SEALED_PREFIX) :])
        plain = AESGCM(bytes.fromhex(case_key)).decrypt(
            raw[:12], raw[12:], reference.encode("ascii", "replace")
        )
        return plain.decode("utf-8")
    except (InvalidTag, ValueError) as error:
        raise SealBrokenError("the sealed detail does not open") from error


def is_sealed(detail: str) -> bool:
    """True when an entry's detail is stored sealed under its case's key."""
    return detail.startswith(SEALED_PREFIX)


def _box_label(slot: str, public: bytes) -> str:
    # Bound to the account and the public key it was sealed to.
    return f"audit key for {slot}\x1f{_b64(public)}"
