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
from app.security.crypto import DataKey, KdfCost, WrongKeyError
from app.security.keyring import (
    RECOVERY,
    Keyring,
    KeyringDamagedError,
    KeyringStore,
    user_key,
    wrap_cost,
)

log = logging.getLogger(__name__)

# Users of a casebook encrypted after they were made, still waiting for a new password.
AWAITING_NOTE = "awaiting_new_password"


@dataclass
class KeyHolder:
    """The open data key of this process, or None while nobody has signed in."""

    key: DataKey | None = None

    def get(self) -> DataKey | None:
        """The key, for the engine and the blob store to ask at the moment they need it."""
        return self.key


class CasebookKeys:
    """The keyring of one casebook and the key it opens."""

    def __init__(self, store: KeyringStore, holder: KeyHolder, cost: KdfCost | None = None) -> None:
        self.store = store
        self.holder = holder
        self.cost = cost or wrap_cost()

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
        self.store.save(Keyring.new(key))
        self.holder.key = key

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
            key = keyring.open_with(name, password)
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
            return keyring.open_with(RECOVERY, normalise_recovery_key(recovery_key))
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
