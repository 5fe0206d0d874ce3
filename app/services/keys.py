"""The casebook's keys: opening the data key with a password or the recovery key.

Sign-in is opening the keyring: a password is right exactly when it unwraps the data key.
Wrong guesses are counted in the keyring itself (the database cannot be read until the
key is open), back off, and lock the account after ``MAX_FAILED_SIGN_INS`` in a row;
each failure waits in the keyring until the next successful sign-in writes it into the
audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.domain.access import MAX_FAILED_SIGN_INS, back_off
from app.domain.errors import (
    AccountLockedError,
    DataDirectoryError,
    KeyFileError,
    SignInError,
)
from app.security.crypto import DEFAULT_COST, DataKey, KdfCost, SafeguardingKey, WrongKeyError
from app.security.keyring import (
    RECOVERY,
    Keyring,
    KeyringDamagedError,
    KeyringStore,
    OpenedAccount,
    user_key,
)

log = logging.getLogger(__name__)

# Users of a casebook encrypted after they were made, still waiting for a new password.
AWAITING_NOTE = "awaiting_new_password"
# Heads whose account had no key pair yet when they were made head, by ``user_key``.
AWAITING_HEAD_NOTE = "awaiting_safeguarding_key"


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

    def __init__(
        self, store: KeyringStore, holder: KeyHolder, cost: KdfCost = DEFAULT_COST
    ) -> None:
        self.store = store
        self.holder = holder
        self.cost = cost
        # What the last successful password or recovery key opened (sign-in reads it).
        self.opened: OpenedAccount | None = None

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

    def wrap_for(self, name: str, secret: str) -> None:
        """Let ``name`` (or RECOVERY) open the casebook with ``secret``; needs the open key."""
        key = self.holder.key
        if key is None:
            raise SignInError("Sign in first.")

        def wrap(keyring: Keyring) -> None:
            keyring.add_wrap(name, secret, key, self.cost)
            awaiting = keyring.notes.get(AWAITING_NOTE)
            if awaiting:
                left = [n for n in awaiting.split("\n") if n and n != user_key(name)]
                keyring.notes[AWAITING_NOTE] = "\n".join(left)

        self._change(wrap)

    def remove(self, name: str) -> None:
        """Take away ``name``'s copy of the key."""
        self._change(lambda keyring: keyring.remove_wrap(name))

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
            key = self._open_account(keyring, name, password)
        except WrongKeyError:
            raise self._wrong_password(name, now) from None
        except KeyringDamagedError as error:
            raise self.damaged() from error
        if entry.get("failed") or entry.get("retry_after"):
            self._change(lambda k: _clear(k, name))
        return key

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
                *keyring.pending_audit[-199:],
                {"user": name or "(no name)", "at": "", "detail": detail},
            ]

        self._change(note)

    def open_with_recovery_key(self, recovery_key: str) -> DataKey:
        """The data key from the recovery key; SignInError when the key is not right."""
        keyring = self._keyring()
        try:
            return self._open_account(keyring, RECOVERY, normalise_recovery_key(recovery_key))
        except WrongKeyError:
            self._note_failure("(recovery key)", "recovery key refused")
            raise SignInError(
                "The recovery key is not right; check it against the printed copy."
            ) from None
        except KeyringDamagedError as error:
            raise self.damaged() from error

    def take_pending_audit(self) -> list[dict[str, str]]:
        """Sign-in failures recorded while the casebook was shut, now to be audited."""
        keyring = self.load()
        if keyring is None or not keyring.pending_audit:
            return []
        pending = list(keyring.pending_audit)

        def clear(k: Keyring) -> None:
            k.pending_audit = k.pending_audit[len(pending) :]

        self._change(clear)
        return pending

    def note(self, name: str) -> str:
        """A plain fact kept in the keyring (readable before anyone signs in)."""
        keyring = self.load()
        return keyring.notes.get(name, "") if keyring else ""

    def set_note(self, name: str, value: str) -> None:
        """Keep a plain fact in the keyring; never anything about a case or a person."""
        self._change(lambda keyring: keyring.notes.__setitem__(name, value))

    # ----- accounts and the safeguarding key ------------------------------------------

    def _open_account(self, keyring: Keyring, name: str, secret: str) -> DataKey:
        opened = keyring.open_account(name, secret)
        if opened.upgraded:
            slot = RECOVERY if name == RECOVERY else user_key(name)
            entry = keyring.wraps[slot]
            self._change(lambda k: k.wraps[slot].update(entry) if slot in k.wraps else None)
        self.opened = opened
        return opened.key

    def wrap_account(self, name: str, secret: str, *, head: bool) -> None:
        """Let ``name`` (or RECOVERY) open the casebook with ``secret``; a head teacher /
        DSL (and the recovery key) also gets the safeguarding key. Needs the open keys."""
        key = self.holder.key
        if key is None:
            raise SignInError("Sign in first.")
        # Without the key open here (a casebook from before it), a new head gets it at a
        # head's next sign-in (``grant_head``).
        head_key = self.holder.head if head else None

        def wrap(keyring: Keyring) -> None:
            keyring.add_account(name, secret, key, self.cost, head_key=head_key)
            if head and head_key is None and keyring.head_check and name != RECOVERY:
                # Given at another head's next sign-in, now that the account has a key pair.
                waiting = set(filter(None, keyring.notes.get(AWAITING_HEAD_NOTE, "").split("\n")))
                keyring.notes[AWAITING_HEAD_NOTE] = "\n".join(sorted(waiting | {user_key(name)}))
            awaiting = keyring.notes.get(AWAITING_NOTE)
            if awaiting:
                left = [n for n in awaiting.split("\n") if n and n != user_key(name)]
                keyring.notes[AWAITING_NOTE] = "\n".join(left)

        self._change(wrap)

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


def _clear(keyring: Keyring, name: str) -> None:
    entry = keyring.entry(name)
    if entry is not None:
        entry.update(failed=0, locked=False, retry_after=None)


def normalise_recovery_key(key: str) -> str:
    """The recovery key as typed, without dashes, spaces or case."""
    return "".join(ch for ch in key.upper() if ch.isalnum())
