"""The casebook's keys: opening the data key with a password or the recovery key.

Sign-in is opening the keyring: a password is right exactly when it unwraps the data key.
Wrong guesses are counted in the keyring itself (the database cannot be read until the
key is open), back off, and lock the account after ``MAX_FAILED_SIGN_INS`` in a row;
each failure waits in the keyring until the next successful sign-in writes it into the
audit trail.

A wrap also carries a plain checksum of itself and a check value of its password's key,
so a wrap damaged on disk is told apart from a wrong password: it says "damaged" and
does not count towards the lock. The password's key also opens the user's copy of the
head teachers' audit key (``security/audit_chain.py``), kept in the keyring's notes,
and the account's own key pair, to which a head teacher / DSL's copy of the safeguarding
key is sealed (``security/keyring.py``, docs/security.md): one Argon2id run opens them all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.domain.access import MAX_FAILED_SIGN_INS, back_off
from app.domain.errors import (
    AccountLockedError,
    DataDirectoryError,
    KeyFileError,
    SignInError,
)
from app.security.audit_chain import AuditKey, unlock_key
from app.security.crypto import (
    DataKey,
    DerivationAhead,
    KdfCost,
    SafeguardingKey,
    WrongKeyError,
    derive_key,
    unwrap_key,
)
from app.security.keyring import (
    RECOVERY,
    Keyring,
    KeyringDamagedError,
    KeyringFile,
    KeyringStore,
    OpenedAccount,
    checked_cost,
    user_key,
    wrap_cost,
)

log = logging.getLogger(__name__)

# Users of a casebook encrypted after they were made, still waiting for a new password.
AWAITING_NOTE = "awaiting_new_password"
# Heads whose account had no key pair yet when they were made head, by ``user_key``.
AWAITING_HEAD_NOTE = "awaiting_safeguarding_key"
# The head teachers' audit key, wrapped for each of them and the recovery key.
AUDIT_KEY_NOTE = "audit_key"
# How many sign-in failures wait at most for the audit trail (a script hammering names
# cannot grow the file).
PENDING_LIMIT = 200


def derivation_ahead(keyring_path: Path, password: str, name: str) -> DerivationAhead | None:
    """Start Argon2id on a password already given, before the casebook is opened.

    What signs in (the command line, the window started unattended) imports the services
    and opens the database meanwhile; the derivation, which the interpreter does not wait
    on, runs beside that. ``name`` is the account to sign in as; an empty one means the
    casebook's only user, else 'head'. Anything unexpected (no keyring, no such user, a
    locked account, a damaged entry) starts nothing: signing in then says what is wrong.
    """
    try:
        keyring = KeyringStore(KeyringFile(keyring_path)).load()
        if keyring is None:
            return None
        names = keyring.user_names()
        name = name or (names[0] if len(names) == 1 else "head")
        entry = keyring.entry(name)
        if entry is None or name == RECOVERY or entry.get("locked") or entry.get("retry_after"):
            return None
        salt = base64.b64decode(str(entry["salt"]).encode("ascii"), validate=True)
        cost = checked_cost(entry["kdf"])
    except (OSError, KeyringDamagedError, KeyError, ValueError, TypeError, binascii.Error):
        return None
    return DerivationAhead(password, salt, cost)


class _WrapDamaged(Exception):
    """A wrap whose checksum, or whose password check, shows it was damaged on disk."""


@dataclass
class KeyHolder:
    """The open data key of this process, or None while nobody has signed in."""

    key: DataKey | None = None
    # The safeguarding key, held only while a head teacher / DSL (or the recovery key) is in,
    # and its public half, which every signed-in user seals safeguarding records with.
    head: SafeguardingKey | None = None
    head_public: bytes | None = None

    def get(self) -> DataKey | None:
        """The key, for the engine and the blob store to ask at the moment they need it."""
        return self.key

    def get_head(self) -> SafeguardingKey | None:
        """The safeguarding key, for the database to open safeguarding records."""
        return self.head

    def get_head_public(self) -> bytes | None:
        """The public half, for the database to seal safeguarding records."""
        if self.head is not None:
            return self.head.public()
        return self.head_public


class CasebookKeys:
    """The keyring of one casebook and the key it opens."""

    def __init__(self, store: KeyringStore, holder: KeyHolder, cost: KdfCost | None = None) -> None:
        self.store = store
        self.holder = holder
        self.cost = cost or wrap_cost()
        # (slot, key that opens that slot's copy of the audit key) after a successful open.
        self.unlocked: tuple[str, bytes] | None = None
        # What the last successful password or recovery key opened (sign-in reads it).
        self.opened: OpenedAccount | None = None
        # A password's Argon2id started early by the command line (used once, if it fits).
        self.ahead: DerivationAhead | None = None

    def damaged(self) -> DataDirectoryError:
        """The refusal for a keyring that cannot be read."""
        return KeyFileError(
            f"{self.store.storage.describe().capitalize()} is damaged, so the casebook cannot "
            "be opened; restore the data folder from the school's backup. Nothing has been "
            "changed."
        )

    def load(self) -> Keyring | None:
        """The keyring (None before set-up); a clear refusal when it is damaged."""
        try:
            return self.store.load()
        except KeyringDamagedError as error:
            log.error("The keyring could not be read: %s", error)
            raise self.damaged() from error

    def _keyring(self) -> Keyring:
        keyring = self.load()
        if keyring is None:
            raise self.damaged()
        return keyring

    def _change(self, edit: Callable[[Keyring], None]) -> Keyring:
        try:
            return self.store.change(edit)
        except KeyringDamagedError as error:
            raise self.damaged() from error

    # ----- set-up ---------------------------------------------------------------------

    def create(self, key: DataKey) -> None:
        """Start the keyring of a new casebook (no one can open it until a wrap is added)."""
        head_key = SafeguardingKey.new()
        self.store.save(Keyring.new(key, head_key))
        self.holder.key = key
        self.holder.head = head_key
        self.holder.head_public = head_key.public()

    def user_names(self) -> list[str]:
        """The users who can open the casebook."""
        keyring = self.load()
        return keyring.user_names() if keyring else []

    def wrap_account(
        self, name: str, secret: str, *, head: bool, audit_key: AuditKey | None = None
    ) -> None:
        """Let ``name`` (or RECOVERY) open the casebook with ``secret``; needs the open key.

        Every account gets a key pair under the same secret; a head teacher / DSL (and the
        recovery key) with ``head`` also gets the safeguarding key sealed to it, when this
        process holds that key (otherwise at another head's next sign-in, ``grant_head``).
        With ``audit_key`` the same secret also opens a copy of the head teachers' audit
        key; without it any older copy of this user's is removed (it was wrapped for a
        password that no longer exists).
        """
        key = self.holder.key
        if key is None:
            raise SignInError("Sign in first.")
        head_key = self.holder.head if head else None

        def wrap(keyring: Keyring) -> None:
            kek = keyring.add_account(name, secret, key, self.cost, head_key=head_key)
            slot = _slot(name)
            entry = keyring.wraps[slot]
            entry["verifier"] = _verifier(kek)
            entry["digest"] = _digest(slot, entry)
            _set_audit_wrap(keyring, slot, entry, audit_key, unlock_key(kek))
            if head and head_key is None and keyring.head_check and name != RECOVERY:
                # Given at another head's next sign-in, now that the account has a key pair.
                waiting = set(filter(None, keyring.notes.get(AWAITING_HEAD_NOTE, "").split("\n")))
                keyring.notes[AWAITING_HEAD_NOTE] = "\n".join(sorted(waiting | {user_key(name)}))
            awaiting = keyring.notes.get(AWAITING_NOTE)
            if awaiting:
                left = [n for n in awaiting.split("\n") if n and n != user_key(name)]
                keyring.notes[AWAITING_NOTE] = "\n".join(left)

        self._change(wrap)

    def remove(self, name: str) -> None:
        """Take away ``name``'s copy of the key."""

        def remove(keyring: Keyring) -> None:
            keyring.remove_wrap(name)
            _set_audit_wrap(keyring, _slot(name), None, None, None)

        self._change(remove)

    # ----- the head teachers' audit key -----------------------------------------------

    def audit_key_exists(self) -> bool:
        """True once a head teachers' audit key has been made for this casebook."""
        keyring = self.load()
        return keyring is not None and bool(_audit_note(keyring).get("check"))

    def open_audit_key(self) -> AuditKey | None:
        """The audit key from the copy of whoever just signed in (None if they hold none).

        A head teacher appointed since their password was last set holds it sealed to
        their account's public key (``offer_audit_key``); it is opened and wrapped under
        their password now, so later sign-ins read it directly.
        """
        keyring = self.load()
        if keyring is None or self.unlocked is None:
            return None
        slot, unlock = self.unlocked
        note = _audit_note(keyring)
        wrap = note.get("wraps", {}).get(slot)
        entry = keyring.wraps.get(slot)
        if entry is None:
            return None
        if not wrap or wrap.get("salt") != entry.get("salt"):
            return self._open_boxed_audit_key(keyring, slot, entry, unlock)
        try:
            audit_key = AuditKey.unwrap(unlock, slot, wrap)
        except WrongKeyError:
            log.warning("The copy of the audit key for %s does not open", slot)
            return None
        if audit_key.check_value() != note.get("check"):
            log.warning("The copy of the audit key for %s is not the casebook's", slot)
            return None
        return audit_key

    def _open_boxed_audit_key(
        self, keyring: Keyring, slot: str, entry: dict[str, Any], unlock: bytes
    ) -> AuditKey | None:
        note = _audit_note(keyring)
        box = note.get("boxes", {}).get(slot)
        opened = self.opened
        if not box or opened is None or not opened.kek or "head" not in entry:
            return None
        pair = keyring.account_private_key(slot, opened.kek)
        if pair is None or _b64(pair[1]) != box.get("pub"):
            return None  # sealed to a key pair this account no longer has
        private, public = pair
        try:
            audit_key = AuditKey.unbox(private, public, slot, box)
        except WrongKeyError:
            log.warning("The sealed copy of the audit key for %s does not open", slot)
            return None
        if audit_key.check_value() != note.get("check"):
            log.warning("The sealed copy of the audit key for %s is not the casebook's", slot)
            return None

        def wrap(k: Keyring) -> None:
            current = k.wraps.get(slot)
            if current is not None:
                _set_audit_wrap(k, slot, current, audit_key, unlock)

        self._change(wrap)
        return audit_key

    def offer_audit_key(self, audit_key: AuditKey) -> list[str]:
        """Seal the audit key to each head teacher's account that holds no copy of it.

        Called at a head teacher's sign-in (who holds the key): a head appointed by the
        role screen gets the key without their password being set again. Returns the
        slots given a sealed copy.
        """
        current = self.load()
        if current is None or audit_key.check_value() != _audit_note(current).get("check"):
            return []

        def wanting(keyring: Keyring) -> list[tuple[str, bytes]]:
            note = _audit_note(keyring)
            wraps = note.get("wraps", {})
            boxes = note.get("boxes", {})
            found = []
            for slot, entry in keyring.wraps.items():
                if slot == RECOVERY or "head" not in entry or "pub" not in entry:
                    continue
                wrap = wraps.get(slot)
                if wrap and wrap.get("salt") == entry.get("salt"):
                    continue
                if boxes.get(slot, {}).get("pub") == entry["pub"]:
                    continue
                found.append((slot, _unb64(entry["pub"])))
            return found

        if not wanting(current):
            return []  # nothing to give: no write at every sign-in
        given: list[str] = []

        def give(keyring: Keyring) -> None:
            note = _audit_note(keyring)
            if not note:
                return
            boxes = dict(note.get("boxes", {}))
            for slot, public in wanting(keyring):
                boxes[slot] = audit_key.box(public, slot)
                given.append(slot)
            note["boxes"] = boxes
            keyring.notes[AUDIT_KEY_NOTE] = json.dumps(note, sort_keys=True)

        self._change(give)
        return given

    def start_audit_key(self, audit_key: AuditKey) -> None:
        """Make ``audit_key`` the casebook's (no one holds a copy until ``wrap_account``)."""

        def start(keyring: Keyring) -> None:
            keyring.notes[AUDIT_KEY_NOTE] = json.dumps(
                {"check": audit_key.check_value(), "wraps": {}}, sort_keys=True
            )

        self._change(start)

    def make_audit_key(self) -> AuditKey:
        """A new audit key, held by whoever just signed in (a casebook sealed for the first
        time); the recovery key and other head teachers get it when their secret is next set.
        """
        if self.unlocked is None:
            raise SignInError("Sign in first.")
        slot, unlock = self.unlocked
        audit_key = AuditKey.new()
        self.start_audit_key(audit_key)

        def give(keyring: Keyring) -> None:
            entry = keyring.wraps.get(slot)
            if entry is not None:
                _set_audit_wrap(keyring, slot, entry, audit_key, unlock)

        self._change(give)
        return audit_key

    def take_audit_key(self, name: str) -> None:
        """Remove ``name``'s copy of the audit key (no longer a head teacher)."""
        self._change(lambda keyring: _set_audit_wrap(keyring, _slot(name), None, None, None))

    # ----- opening --------------------------------------------------------------------

    def open_with_password(self, name: str, password: str, now: datetime) -> DataKey:
        """The data key, if ``password`` is ``name``'s; counts, backs off and locks if not."""
        keyring = self._keyring()
        entry = keyring.entry(name)
        shown = " ".join(name.split())[:60]
        if entry is None or name == RECOVERY:
            if user_key(name) in keyring.notes.get(AWAITING_NOTE, "").split("\n"):
                raise SignInError(
                    "The casebook is now encrypted and your account needs a new password; "
                    "ask the head teacher to set one (Administration › Users)."
                )
            self._note_failure(shown, "no such user")
            raise SignInError("The user name or password is not right.")
        if entry.get("locked"):
            raise AccountLockedError(
                f"The account {entry['name']} is locked after {MAX_FAILED_SIGN_INS} wrong "
                "passwords in a row; ask the head teacher to unlock it, or use the recovery key."
            )
        retry_after = entry.get("retry_after")
        if retry_after and now < datetime.fromisoformat(retry_after):
            wait = max(1, int((datetime.fromisoformat(retry_after) - now).total_seconds() + 0.999))
            raise AccountLockedError(
                f"Too many wrong passwords; wait {wait} second{'s' if wait != 1 else ''} "
                "and try again."
            )
        try:
            key, kek = self._open_wrap(keyring, user_key(name), password)
        except WrongKeyError:
            raise self._wrong_password(name, now) from None
        except _WrapDamaged:
            self._note_failure(shown, "key wrap damaged")
            raise self._wrap_damaged(entry["name"]) from None
        except KeyringDamagedError as error:
            raise self.damaged() from error
        self._after_open(keyring, user_key(name), kek)
        return key

    def _open_wrap(self, keyring: Keyring, slot: str, secret: str) -> tuple[DataKey, bytes]:
        """The data key (and the secret's key) from one wrap; WrongKeyError for a wrong
        secret, _WrapDamaged if the wrap itself was damaged, KeyringDamagedError if the
        account's key pair or its seal of the safeguarding key do not open. Remembers what
        the account opened (``opened``) and what opens the slot's copy of the audit key.
        """
        entry = keyring.wraps[slot]
        digest = entry.get("digest")
        if digest is not None and not hmac.compare_digest(str(digest), _digest(slot, entry)):
            raise _WrapDamaged(slot)
        try:
            salt, cost = _unb64(entry["salt"]), checked_cost(entry["kdf"])
            ahead, self.ahead = self.ahead, None
            early = ahead.key_for(secret, salt, cost) if ahead is not None else None
            kek = early if early is not None else derive_key(secret, salt, cost)
            key = unwrap_key(kek, _unb64(entry["nonce"]), _unb64(entry["wrapped"]), slot)
        except WrongKeyError:
            verifier = entry.get("verifier")
            if verifier is not None and hmac.compare_digest(str(verifier), _verifier(kek)):
                raise _WrapDamaged(slot) from None  # the secret is right; the wrap is not
            raise
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise _WrapDamaged(slot) from error
        if key.check_value() != keyring.check:
            raise _WrapDamaged(slot)
        self.opened = keyring.open_account_parts(slot, kek, key)
        self.unlocked = (slot, unlock_key(kek))
        return key, kek

    def _after_open(self, keyring: Keyring, slot: str, kek: bytes) -> None:
        """Clear the wrong-password count; give an older wrap its checksum and check value,
        and the key pair it was given at this opening (one write, no second Argon2id)."""
        entry = keyring.wraps[slot]
        upgraded = self.opened is not None and self.opened.upgraded
        if not (entry.get("failed") or entry.get("retry_after") or upgraded) and "digest" in entry:
            return
        salt = entry.get("salt")
        pair: dict[str, Any] = {
            k: entry[k] for k in ("pub", "priv_nonce", "priv_wrapped") if k in entry
        }

        def tidy(k: Keyring) -> None:
            stored = k.wraps.get(slot)
            if stored is None:
                return
            stored.update(failed=0, locked=False, retry_after=None)
            if stored.get("salt") != salt:
                return  # a new password meanwhile: what this one opened is not its own
            if "digest" not in stored:
                stored["verifier"] = _verifier(kek)
                stored["digest"] = _digest(slot, stored)
            if upgraded and "pub" not in stored:
                stored.update(pair)
                stored.pop("head", None)

        self._change(tidy)

    def _wrap_damaged(self, name: str) -> SignInError:
        return SignInError(
            f"The copy of the casebook's key for {name} in "
            f"{self.store.storage.describe()} is damaged, so no password can open it; the "
            "head teacher can set a new password for this account, or use the recovery key. "
            "Nothing has been changed."
        )

    def _wrong_password(self, name: str, now: datetime) -> SignInError:
        refusal: SignInError = SignInError("The user name or password is not right.")

        def count(keyring: Keyring) -> None:
            nonlocal refusal
            entry = keyring.entry(name)
            if entry is None:
                return
            entry["failed"] = int(entry.get("failed", 0)) + 1
            entry["retry_after"] = (now + back_off(entry["failed"])).isoformat()
            left = MAX_FAILED_SIGN_INS - entry["failed"]
            if left <= 0:
                entry["locked"] = True
                refusal = AccountLockedError(
                    f"The password is not right. The account {entry['name']} is now locked; "
                    "ask the head teacher to unlock it, or use the recovery key."
                )
            elif left <= 3:
                refusal = SignInError(
                    f"The user name or password is not right; {left} more wrong "
                    f"attempt{'s' if left != 1 else ''} will lock the account."
                )
            keyring.pending_audit.append(
                {"user": entry["name"], "at": now.isoformat(), "detail": refusal.message}
            )

        self._change(count)
        return refusal

    def _note_failure(self, name: str, detail: str) -> None:
        def note(keyring: Keyring) -> None:
            # A bounded queue: a script hammering unknown names cannot grow the file.
            keyring.pending_audit = [
                *keyring.pending_audit[-(PENDING_LIMIT - 1) :],
                {"user": name or "(no name)", "at": "", "detail": detail},
            ]

        self._change(note)

    def open_with_recovery_key(self, recovery_key: str) -> DataKey:
        """The data key from the recovery key; SignInError when the key is not right."""
        keyring = self._keyring()
        if RECOVERY not in keyring.wraps:
            self._note_failure("(recovery key)", "recovery key refused")
            raise SignInError("The recovery key is not right; check it against the printed copy.")
        secret = normalise_recovery_key(recovery_key)
        try:
            key, kek = self._open_wrap(keyring, RECOVERY, secret)
        except WrongKeyError:
            self._note_failure("(recovery key)", "recovery key refused")
            raise SignInError(
                "The recovery key is not right; check it against the printed copy."
            ) from None
        except _WrapDamaged:
            self._note_failure("(recovery key)", "key wrap damaged")
            raise self._wrap_damaged("the recovery key") from None
        except KeyringDamagedError as error:
            raise self.damaged() from error
        self._after_open(keyring, RECOVERY, kek)
        return key

    def pending_audit(self) -> list[dict[str, str]]:
        """Sign-in failures recorded while the casebook was shut, still to be audited."""
        keyring = self.load()
        return list(keyring.pending_audit) if keyring is not None else []

    def drop_pending_audit(self, written: list[dict[str, str]]) -> None:
        """Forget the failures now in the audit trail (only once they are written there)."""
        if not written:
            return

        def clear(k: Keyring) -> None:
            if k.pending_audit[: len(written)] == written:
                k.pending_audit = k.pending_audit[len(written) :]
            else:  # the queue moved on meanwhile (it is bounded): drop what matches
                k.pending_audit = [f for f in k.pending_audit if f not in written]

        self._change(clear)

    def note(self, name: str) -> str:
        """A plain fact kept in the keyring (readable before anyone signs in)."""
        keyring = self.load()
        return keyring.notes.get(name, "") if keyring else ""

    def set_note(self, name: str, value: str) -> None:
        """Keep a plain fact in the keyring; never anything about a case or a person."""
        self._change(lambda keyring: keyring.notes.__setitem__(name, value))

    # ----- accounts and the safeguarding key ------------------------------------------

    def head_check(self) -> str:
        """The safeguarding key's check value ("" before the casebook has one)."""
        keyring = self.load()
        return keyring.head_check if keyring else ""

    def establish_head_key(self) -> SafeguardingKey:
        """Make the safeguarding key of a casebook created before there was one."""
        head_key = SafeguardingKey.new()

        def establish(keyring: Keyring) -> None:
            if keyring.head_check:
                raise KeyringDamagedError("the casebook already has a safeguarding key")
            keyring.set_head_key(head_key)

        self._change(establish)
        self.holder.head = head_key
        self.holder.head_public = head_key.public()
        return head_key

    def restore_head_public(self, head_key: SafeguardingKey) -> None:
        """Write the safeguarding key's own public half back into the keyring."""
        self._change(lambda keyring: keyring.set_head_key(head_key))

    def head_public(self) -> bytes | None:
        """The public half of the safeguarding key as the keyring holds it."""
        keyring = self.load()
        return keyring.head_public_key() if keyring else None

    def grant_head(self, names: list[str]) -> list[str]:
        """Give the safeguarding key to each of ``names`` that has a key pair; return them."""
        head_key = self.holder.head
        if head_key is None:
            return []
        granted: list[str] = []
        current = self.load()
        if current is not None and all(
            current.holds_head(name) or not current.has_wrap(name) for name in names
        ):
            return granted  # nothing to give: no write (and no fsync) at every sign-in

        def grant(keyring: Keyring) -> None:
            awaiting = set(filter(None, keyring.notes.get(AWAITING_HEAD_NOTE, "").split("\n")))
            for name in names:
                if keyring.has_key_pair(name):
                    awaiting.discard(user_key(name))
                    if not keyring.holds_head(name):
                        keyring.grant_head(name, head_key)
                        granted.append(name)
                elif name != RECOVERY and keyring.has_wrap(name):
                    # Given at a head's next sign-in, once the account has a key pair.
                    awaiting.add(user_key(name))
            keyring.notes[AWAITING_HEAD_NOTE] = "\n".join(sorted(awaiting))

        self._change(grant)
        return granted

    def revoke_head(self, name: str) -> None:
        """Take the safeguarding key away from ``name``."""

        def revoke(keyring: Keyring) -> None:
            keyring.revoke_head(name)
            awaiting = keyring.notes.get(AWAITING_HEAD_NOTE, "").split("\n")
            keyring.notes[AWAITING_HEAD_NOTE] = "\n".join(
                n for n in awaiting if n and n != user_key(name)
            )

        self._change(revoke)

    def awaiting_head(self, name: str) -> bool:
        """True when ``name`` was made head teacher but has not yet been given the key."""
        return user_key(name) in self.note(AWAITING_HEAD_NOTE).split("\n")

    def holds_head(self, name: str) -> bool:
        """True when ``name``'s keyring entry carries the safeguarding key."""
        keyring = self.load()
        return keyring is not None and keyring.holds_head(name)

    # ----- locks ----------------------------------------------------------------------

    def lock_states(self) -> dict[str, tuple[bool, int]]:
        """(locked, wrong passwords in a row) for every user, by ``user_key`` of the name.

        One read of the keyring for a whole list of users.
        """
        keyring = self.load()
        if keyring is None:
            return {}
        return {
            slot: (bool(entry.get("locked")), int(entry.get("failed", 0)))
            for slot, entry in keyring.wraps.items()
            if slot != RECOVERY
        }

    def unlock_account(self, name: str) -> None:
        """Clear ``name``'s lock and wrong-password count."""
        self._change(lambda keyring: _clear(keyring, name))


def _slot(name: str) -> str:
    return RECOVERY if name == RECOVERY else user_key(name)


def _unb64(text: str) -> bytes:
    return base64.b64decode(str(text).encode("ascii"), validate=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _digest(slot: str, entry: dict[str, Any]) -> str:
    """A plain checksum of a wrap: tells a damaged wrap from a wrong password."""
    fields = [slot, entry.get("kdf"), entry.get("salt"), entry.get("nonce"), entry.get("wrapped")]
    fields.append(entry.get("verifier"))
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _verifier(kek: bytes) -> str:
    """A check value of a password's key (as costly to guess against as the wrap itself)."""
    return hmac.new(kek, b"password check", hashlib.sha256).hexdigest()[:32]


def _audit_note(keyring: Keyring) -> dict[str, Any]:
    try:
        note = json.loads(keyring.notes.get(AUDIT_KEY_NOTE, "") or "{}")
    except ValueError:
        return {}
    return note if isinstance(note, dict) else {}


def _set_audit_wrap(
    keyring: Keyring,
    slot: str,
    entry: dict[str, Any] | None,
    audit_key: AuditKey | None,
    unlock: bytes | None,
) -> None:
    """Put (or, without a key, remove) ``slot``'s copy of the audit key in the notes."""
    note = _audit_note(keyring)
    if not note:
        return
    wraps = dict(note.get("wraps", {}))
    boxes = dict(note.get("boxes", {}))
    sealed = boxes.pop(slot, None)  # a wrapped copy replaces a sealed one; removal removes both
    note["boxes"] = boxes
    if audit_key is None or entry is None or unlock is None:
        if wraps.pop(slot, None) is None and sealed is None:
            return
    else:
        if audit_key.check_value() != note.get("check"):
            return
        wraps[slot] = {"salt": entry["salt"], **audit_key.wrap(unlock, slot)}
    note["wraps"] = wraps
    keyring.notes[AUDIT_KEY_NOTE] = json.dumps(note, sort_keys=True)


def _clear(keyring: Keyring, name: str) -> None:
    entry = keyring.entry(name)
    if entry is not None:
        entry.update(failed=0, locked=False, retry_after=None)


def normalise_recovery_key(key: str) -> str:
    """The recovery key as typed, without dashes, spaces or case."""
    return "".join(ch for ch in key.upper() if ch.isalnum())
