"""The keyring: the data key wrapped for each user and for the recovery key.

The keyring is the one thing read before the database can be opened, so it also keeps
what sign-in needs before then: each user's wrong-password count and lock, and the
sign-in failures waiting to be written into the audit trail once someone signs in.
On a single PC it is a JSON file beside the database (``casebook.keys``); a casebook on
PostgreSQL keeps the same document in a table of its own.

Each entry also holds the account's own X25519 key pair (the private half wrapped like the
data key), and a head teacher / DSL's entry (and the recovery key's) the safeguarding key
sealed to that public key, labelled with the account and its head role: no one can give
themselves that key by editing the file, because only a holder of the key can seal it.
See docs/security.md.

Its integrity: every wrap is AES-GCM with the user's name as associated data, so a wrap
cannot be moved to another name or altered unnoticed. The counters are plain: anyone
who can edit the file can also copy it away and guess offline, which is what Argon2id's
cost is for; the counters stop guessing at the keyboard.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app.security.crypto import (
    DEFAULT_COST,
    DataKey,
    KdfCost,
    SafeguardingKey,
    WrongKeyError,
    box_key,
    derive_key,
    new_key_pair,
    unbox_key,
    unwrap_bytes,
    unwrap_key,
    wrap_bytes,
    wrap_key,
)

log = logging.getLogger(__name__)

FORMAT = "conduct-casebook-keyring"
FORMAT_VERSION = 1
RECOVERY = "(recovery key)"
FILE_NAME = "casebook.keys"


class KeyringDamagedError(Exception):
    """The keyring could not be read as one: damaged, or not a keyring at all."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def user_key(name: str) -> str:
    """How a user name is matched: spaces folded, case ignored."""
    return " ".join(name.split()).casefold()


@dataclass
class Keyring:
    """The parsed keyring document."""

    check: str
    wraps: dict[str, dict[str, Any]]
    pending_audit: list[dict[str, str]]
    # Plain facts the sign-in screen may show before the key is open ("demo": fictional set).
    notes: dict[str, str] = field(default_factory=dict)
    # Identifies the safeguarding key ("" in a casebook made before there was one), and its
    # public half (base64), with which anyone signed in seals a safeguarding record.
    head_check: str = ""
    head_public: str = ""

    @classmethod
    def new(cls, key: DataKey, head_key: SafeguardingKey | None = None) -> Keyring:
        """An empty keyring for a new data key (no one can open it until a wrap is added)."""
        keyring = cls(check=key.check_value(), wraps={}, pending_audit=[])
        if head_key is not None:
            keyring.set_head_key(head_key)
        return keyring

    def set_head_key(self, head_key: SafeguardingKey) -> None:
        """Record which safeguarding key this casebook has (its check and public half)."""
        self.head_check = head_key.check_value()
        self.head_public = _b64(head_key.public())

    def head_public_key(self) -> bytes | None:
        """The safeguarding key's public half, None before the casebook has one."""
        return _unb64(self.head_public) if self.head_public else None

    @classmethod
    def parse(cls, raw: bytes) -> Keyring:
        """Read the stored document; KeyringDamagedError when it is not a whole keyring."""
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise KeyringDamagedError("not a keyring")
            if int(data.get("format_version", 0)) > FORMAT_VERSION:
                raise KeyringDamagedError("a newer keyring format")
            wraps = data["wraps"]
            check = str(data["check"])
            pending = list(data.get("pending_audit", []))
            notes = {str(k): str(v) for k, v in dict(data.get("notes", {})).items()}
            if not isinstance(wraps, dict):
                raise KeyringDamagedError("wraps are not a table")
            for entry in wraps.values():
                _unb64(entry["salt"]), _unb64(entry["nonce"]), _unb64(entry["wrapped"])
                KdfCost.from_dict(entry["kdf"])
        except (ValueError, KeyError, TypeError) as error:
            raise KeyringDamagedError(str(error)) from error
        head_check = str(data.get("head_check", ""))
        head_public = str(data.get("head_public", ""))
        _unb64(head_public)
        return cls(
            check=check,
            wraps=wraps,
            pending_audit=pending,
            notes=notes,
            head_check=head_check,
            head_public=head_public,
        )

    def dump(self) -> bytes:
        """The document to store."""
        data = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "check": self.check,
            "wraps": self.wraps,
            "pending_audit": self.pending_audit,
            "notes": self.notes,
            "head_check": self.head_check,
            "head_public": self.head_public,
        }
        return json.dumps(data, indent=1, sort_keys=True).encode("utf-8")

    # ----- wraps ----------------------------------------------------------------------

    def user_names(self) -> list[str]:
        """The display names of the users who can open the casebook."""
        return sorted(
            (entry["name"] for key, entry in self.wraps.items() if key != RECOVERY),
            key=str.casefold,
        )

    def has_wrap(self, name: str) -> bool:
        """True when ``name`` (or the recovery key, for RECOVERY) can open the casebook."""
        return self._slot(name) in self.wraps

    @staticmethod
    def _slot(name: str) -> str:
        return RECOVERY if name == RECOVERY else user_key(name)

    def add_wrap(self, name: str, secret: str, key: DataKey, cost: KdfCost = DEFAULT_COST) -> None:
        """Wrap the data key for ``name`` under ``secret`` (a new password replaces the old)."""
        if key.check_value() != self.check:
            raise ValueError("the data key does not belong to this keyring")
        slot = self._slot(name)
        salt = secrets.token_bytes(16)
        nonce, wrapped = wrap_key(derive_key(secret, salt, cost), key, slot)
        previous = self.wraps.get(slot, {})
        self.wraps[slot] = {
            "name": " ".join(name.split()),
            "kdf": cost.as_dict(),
            "salt": _b64(salt),
            "nonce": _b64(nonce),
            "wrapped": _b64(wrapped),
            "failed": 0,
            "locked": False,
            "retry_after": None,
            "created_at": previous.get("created_at"),
        }

    def remove_wrap(self, name: str) -> None:
        """Take away a user's copy of the key."""
        self.wraps.pop(self._slot(name), None)

    def open_with(self, name: str, secret: str) -> DataKey:
        """The data key, opened with ``name``'s secret; WrongKeyError when it is not right."""
        entry = self.wraps.get(self._slot(name))
        if entry is None:
            raise WrongKeyError("no such wrap")
        kek = derive_key(secret, _unb64(entry["salt"]), KdfCost.from_dict(entry["kdf"]))
        key = unwrap_key(kek, _unb64(entry["nonce"]), _unb64(entry["wrapped"]), self._slot(name))
        if key.check_value() != self.check:
            raise KeyringDamagedError("a wrap opened to a key this keyring does not belong to")
        return key

    def entry(self, name: str) -> dict[str, Any] | None:
        """The stored entry (counters included) for ``name``."""
        return self.wraps.get(self._slot(name))

    # ----- accounts: the data key, a key pair, and the safeguarding key for heads ------

    def add_account(
        self,
        name: str,
        secret: str,
        key: DataKey,
        cost: KdfCost = DEFAULT_COST,
        *,
        head_key: SafeguardingKey | None = None,
    ) -> None:
        """Wrap the data key and a new key pair for ``name`` under ``secret`` (one Argon2id);
        with ``head_key``, also give the account the safeguarding key."""
        if key.check_value() != self.check:
            raise ValueError("the data key does not belong to this keyring")
        slot = self._slot(name)
        salt = secrets.token_bytes(16)
        kek = derive_key(secret, salt, cost)
        nonce, wrapped = wrap_key(kek, key, slot)
        previous = self.wraps.get(slot, {})
        self.wraps[slot] = {
            "name": " ".join(name.split()),
            "kdf": cost.as_dict(),
            "salt": _b64(salt),
            "nonce": _b64(nonce),
            "wrapped": _b64(wrapped),
            "failed": 0,
            "locked": False,
            "retry_after": None,
            "created_at": previous.get("created_at"),
        }
        self._add_key_pair(slot, kek)
        if head_key is not None:
            self.grant_head(name, head_key)

    def _add_key_pair(self, slot: str, kek: bytes) -> None:
        private, public = new_key_pair()
        nonce, wrapped = wrap_bytes(kek, private, slot + _PRIVATE)
        self.wraps[slot].update(
            pub=_b64(public), priv_nonce=_b64(nonce), priv_wrapped=_b64(wrapped)
        )
        self.wraps[slot].pop("head", None)  # sealed to the old public key

    def open_account(self, name: str, secret: str) -> OpenedAccount:
        """The data key and, for a head, the safeguarding key, from one Argon2id run.

        WrongKeyError when the secret is not right; KeyringDamagedError when the entry
        opens but what it holds is not this keyring's.
        """
        slot = self._slot(name)
        entry = self.wraps.get(slot)
        if entry is None:
            raise WrongKeyError("no such wrap")
        kek = derive_key(secret, _unb64(entry["salt"]), KdfCost.from_dict(entry["kdf"]))
        key = unwrap_key(kek, _unb64(entry["nonce"]), _unb64(entry["wrapped"]), slot)
        if key.check_value() != self.check:
            raise KeyringDamagedError("a wrap opened to a key this keyring does not belong to")
        if "pub" not in entry:
            # Made before accounts had key pairs: add one now, under the same password key.
            self._add_key_pair(slot, kek)
            return OpenedAccount(key, None, upgraded=True)
        head_key: SafeguardingKey | None = None
        box = entry.get("head")
        if box is not None and self.head_check:
            try:
                private = unwrap_bytes(
                    kek, _unb64(entry["priv_nonce"]), _unb64(entry["priv_wrapped"]), slot + _PRIVATE
                )
                head_key = unbox_key(
                    private,
                    _unb64(box["eph"]),
                    _unb64(box["nonce"]),
                    _unb64(box["sealed"]),
                    _head_label(slot, entry),
                )
            except (WrongKeyError, KeyError, ValueError) as error:
                raise KeyringDamagedError("the safeguarding key's seal does not open") from error
            if head_key.check_value() != self.head_check:
                raise KeyringDamagedError("a seal opened to a key this keyring does not hold")
        return OpenedAccount(key, head_key)

    def grant_head(self, name: str, head_key: SafeguardingKey) -> None:
        """Give ``name`` the safeguarding key, sealed to its public key and its head role."""
        if head_key.check_value() != self.head_check:
            raise ValueError("the safeguarding key does not belong to this keyring")
        slot = self._slot(name)
        entry = self.wraps[slot]
        ephemeral, nonce, sealed = box_key(_unb64(entry["pub"]), head_key, _head_label(slot, entry))
        entry["head"] = {"eph": _b64(ephemeral), "nonce": _b64(nonce), "sealed": _b64(sealed)}

    def revoke_head(self, name: str) -> None:
        """Take the safeguarding key away from ``name`` (no longer head teacher)."""
        entry = self.wraps.get(self._slot(name))
        if entry is not None:
            entry.pop("head", None)

    def holds_head(self, name: str) -> bool:
        """True when ``name``'s entry carries the safeguarding key."""
        entry = self.wraps.get(self._slot(name))
        return entry is not None and "head" in entry

    def has_key_pair(self, name: str) -> bool:
        """True when ``name``'s entry has a public key the safeguarding key can be sealed to."""
        entry = self.wraps.get(self._slot(name))
        return entry is not None and "pub" in entry


_PRIVATE = "\x1fprivate key"


def _head_label(slot: str, entry: dict[str, Any]) -> str:
    # Bound to the account, its public key and the role the key is for.
    return f"{slot}\x1fhead\x1f{entry.get('pub', '')}"


@dataclass
class OpenedAccount:
    """What one account's secret opened."""

    key: DataKey
    head_key: SafeguardingKey | None
    upgraded: bool = False  # the entry was given a key pair and must be stored


class KeyringStorage(Protocol):
    """Where the keyring document lives: a file on one PC, or a row on the server."""

    def read(self) -> bytes | None: ...
    def write(self, document: bytes) -> None: ...
    def describe(self) -> str: ...


class KeyringFile:
    """The keyring as a file, replaced atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> bytes | None:
        """The stored document, or None when there is no keyring yet."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def write(self, document: bytes) -> None:
        """Replace the document: temporary file, fsync, rename, fsync the folder."""
        temp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(6)}")
        try:
            with open(temp, "xb") as out:
                out.write(document)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        if os.name == "posix":
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def describe(self) -> str:
        """Where the keyring is, for messages."""
        return f"the key file {self.path}"


class KeyringStore:
    """Reads and changes the keyring held in one storage."""

    def __init__(self, storage: KeyringStorage) -> None:
        self.storage = storage

    def exists(self) -> bool:
        """True once a keyring has been written."""
        return self.storage.read() is not None

    def load(self) -> Keyring | None:
        """The keyring, None when there is none; KeyringDamagedError when unreadable."""
        raw = self.storage.read()
        return None if raw is None else Keyring.parse(raw)

    def save(self, keyring: Keyring) -> None:
        """Store the keyring."""
        self.storage.write(keyring.dump())

    def change(self, edit: Callable[[Keyring], None]) -> Keyring:
        """Read, edit and store the keyring in one step."""
        keyring = self.load()
        if keyring is None:
            raise KeyringDamagedError("there is no keyring to change")
        edit(keyring)
        self.save(keyring)
        return keyring
