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
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app.files import replace_file
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


# The Argon2id costs a wrap may record. Below the floor a guess at a copied key file is too
# cheap; above the ceiling one sign-in would take many seconds or more memory than an office
# PC has. A cost outside them was not written by the app, so it is damage: refused, never
# tried (an edited cost would otherwise hang sign-in, or count as a wrong password).
COST_FLOOR = KdfCost(time_cost=2, memory_kib=19 * 1024, parallelism=1)
COST_CEILING = KdfCost(time_cost=8, memory_kib=256 * 1024, parallelism=8)
# The test suite's own cost, chosen only by this environment setting being exactly "1". A
# casebook records its costs, so one made this way is refused anywhere the setting is absent.
TEST_COST_SETTING = "CASEBOOK_TESTS_ONLY_CHEAP_KDF"
TEST_COST = KdfCost(time_cost=1, memory_kib=8, parallelism=1)


def _test_costs() -> bool:
    return os.environ.get(TEST_COST_SETTING) == "1"


def wrap_cost() -> KdfCost:
    """The cost a new wrap gets: the default, or the test suite's cheap one."""
    return TEST_COST if _test_costs() else DEFAULT_COST


def checked_cost(recorded: Any) -> KdfCost:
    """The cost a wrap records, if it is within bounds; KeyringDamagedError if not."""
    if not isinstance(recorded, dict) or any(type(recorded.get(k)) is not int for k in "tmp"):
        raise KeyringDamagedError(
            f"a key derivation cost that is not three whole numbers: {recorded}"
        )
    cost = KdfCost.from_dict(recorded)
    floor = TEST_COST if _test_costs() else COST_FLOOR
    low = (floor.time_cost, floor.memory_kib, floor.parallelism)
    high = (COST_CEILING.time_cost, COST_CEILING.memory_kib, COST_CEILING.parallelism)
    given = (cost.time_cost, cost.memory_kib, cost.parallelism)
    if not all(a <= b <= c for a, b, c in zip(low, given, high, strict=True)):
        raise KeyringDamagedError(f"a key derivation cost out of bounds: {cost.as_dict()}")
    return cost


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def derived_identity(key: DataKey) -> str:
    """The identity of a casebook made before identities: fixed by its data key, so its
    older backups (which name none) are still recognised as its own."""
    return key.sign(b"casebook identity (derived from the key)")[:32]


def _identity_mac(key: DataKey, identity: str) -> str:
    return key.sign(b"casebook identity\0" + identity.encode("ascii", "replace"))


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
    # The casebook's identity (random, made with it) and its MAC under the data key; empty
    # in keyrings made before identities, where it is derived from the key instead.
    identity: str = ""
    identity_mac: str = ""
    # Identifies the safeguarding key ("" in a casebook made before there was one), and its
    # public half (base64), with which anyone signed in seals a safeguarding record.
    head_check: str = ""
    head_public: str = ""

    @classmethod
    def new(cls, key: DataKey, head_key: SafeguardingKey | None = None) -> Keyring:
        """An empty keyring for a new data key (no one can open it until a wrap is added)."""
        identity = secrets.token_hex(16)
        keyring = cls(
            check=key.check_value(),
            wraps={},
            pending_audit=[],
            identity=identity,
            identity_mac=_identity_mac(key, identity),
        )
        if head_key is not None:
            keyring.set_head_key(head_key)
        return keyring

    def casebook_identity(self, key: DataKey) -> str:
        """This casebook's identity, checked with its open key; KeyringDamagedError if altered."""
        if not self.identity:
            return derived_identity(key)
        if not hmac.compare_digest(self.identity_mac, _identity_mac(key, self.identity)):
            raise KeyringDamagedError("the casebook identity was altered")
        return self.identity

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
            identity = str(data.get("identity", ""))
            identity_mac = str(data.get("identity_mac", ""))
            if not isinstance(wraps, dict):
                raise KeyringDamagedError("wraps are not a table")
            for entry in wraps.values():
                _unb64(entry["salt"]), _unb64(entry["nonce"]), _unb64(entry["wrapped"])
                checked_cost(entry["kdf"])
            head_check = str(data.get("head_check", ""))
            head_public = str(data.get("head_public", ""))
            _unb64(head_public)
        except (ValueError, KeyError, TypeError) as error:
            raise KeyringDamagedError(str(error)) from error
        return cls(
            check=check,
            wraps=wraps,
            pending_audit=pending,
            notes=notes,
            identity=identity,
            identity_mac=identity_mac,
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
        if self.identity:
            data["identity"] = self.identity
            data["identity_mac"] = self.identity_mac
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

    def add_wrap(self, name: str, secret: str, key: DataKey, cost: KdfCost | None = None) -> bytes:
        """Wrap the data key for ``name`` under ``secret`` (a new password replaces the old).

        Returns the key-encryption key, for whatever else is wrapped for the same secret.
        """
        if key.check_value() != self.check:
            raise ValueError("the data key does not belong to this keyring")
        cost = checked_cost((cost or wrap_cost()).as_dict())
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
        return kek

    def remove_wrap(self, name: str) -> None:
        """Take away a user's copy of the key."""
        self.wraps.pop(self._slot(name), None)

    def open_with(self, name: str, secret: str) -> DataKey:
        """The data key, opened with ``name``'s secret; WrongKeyError when it is not right."""
        entry = self.wraps.get(self._slot(name))
        if entry is None:
            raise WrongKeyError("no such wrap")
        kek = derive_key(secret, _unb64(entry["salt"]), checked_cost(entry["kdf"]))
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
        cost: KdfCost | None = None,
        *,
        head_key: SafeguardingKey | None = None,
    ) -> bytes:
        """Wrap the data key and a new key pair for ``name`` under ``secret`` (one Argon2id);
        with ``head_key``, also give the account the safeguarding key.

        Returns the key-encryption key, for whatever else is wrapped for the same secret.
        """
        kek = self.add_wrap(name, secret, key, cost)
        self._add_key_pair(self._slot(name), kek)
        if head_key is not None:
            self.grant_head(name, head_key)
        return kek

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
        kek = derive_key(secret, _unb64(entry["salt"]), checked_cost(entry["kdf"]))
        key = unwrap_key(kek, _unb64(entry["nonce"]), _unb64(entry["wrapped"]), slot)
        if key.check_value() != self.check:
            raise KeyringDamagedError("a wrap opened to a key this keyring does not belong to")
        return self.open_account_parts(slot, kek, key)

    def open_account_parts(self, slot: str, kek: bytes, key: DataKey) -> OpenedAccount:
        """What else ``slot``'s entry holds, once its password key ``kek`` has opened the data
        key ``key``: for a head, the safeguarding key. An entry made before accounts had key
        pairs is given one now, under the same password key (``upgraded``: store it).

        KeyringDamagedError when the private key or the safeguarding key's seal do not open.
        """
        entry = self.wraps[slot]
        if "pub" not in entry:
            self._add_key_pair(slot, kek)
            return OpenedAccount(key, None, kek=kek, upgraded=True)
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
            except (WrongKeyError, KeyError, ValueError, TypeError) as error:
                raise KeyringDamagedError("the safeguarding key's seal does not open") from error
            if head_key.check_value() != self.head_check:
                raise KeyringDamagedError("a seal opened to a key this keyring does not hold")
        return OpenedAccount(key, head_key, kek=kek)

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

    def account_private_key(self, slot: str, kek: bytes) -> tuple[bytes, bytes] | None:
        """(private, public) key of ``slot`` opened with its password key, if it has a pair."""
        entry = self.wraps.get(slot)
        if entry is None or "pub" not in entry:
            return None
        try:
            private = unwrap_bytes(
                kek, _unb64(entry["priv_nonce"]), _unb64(entry["priv_wrapped"]), slot + _PRIVATE
            )
        except (WrongKeyError, KeyError, ValueError, TypeError):
            return None
        return private, _unb64(entry["pub"])

    def account_public_key(self, name: str) -> bytes | None:
        """The public key of ``name``'s account, if it has one."""
        entry = self.wraps.get(self._slot(name))
        return _unb64(entry["pub"]) if entry is not None and "pub" in entry else None

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
    # The password key that opened the entry (what else is wrapped for the same secret,
    # such as the head teachers' audit key, opens with it); never stored.
    kek: bytes = field(default=b"", repr=False)
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
            replace_file(temp, self.path)
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
