"""Users, sign-in, lock-out after wrong passwords, and the recovery key.

Each user's password unwraps the casebook's data key (``app/services/keys.py``): signing
in is opening the key, and the first sign-in of a process opens the database with it.
The users table keeps who they are and their role; the keyring keeps what sign-in needs
before the database opens. A role is backed by keys: a head teacher / DSL's account holds
the safeguarding key, and each user's record carries a MAC under that key, so a role
edited in the database is refused at sign-in (docs/security.md).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.models import UserRecord
from app.db.sealing import seal_outstanding
from app.domain.access import (
    Permission,
    Role,
    SignedInUser,
    UserInfo,
    check_password_strength,
    check_user_name,
)
from app.domain.dates import format_date_time
from app.domain.errors import SignInError, ValidationError
from app.security.audit_chain import AuditKey
from app.security.crypto import DataKey
from app.security.keyring import RECOVERY, OpenedAccount, user_key
from app.services.audit import AuditService
from app.services.cases import SEARCHED_EVENTS
from app.services.context import ServiceContext
from app.services.faults import STORAGE_ERRORS, explain_storage_failure
from app.services.keys import CasebookKeys, normalise_recovery_key

log = logging.getLogger(__name__)

# Set in the keyring once every user's record carries its seal.
USERS_SEALED_NOTE = "users_sealed"

_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_recovery_key() -> str:
    """A random key of 30 characters in six groups (150 bits), easy to print and type."""
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(30))
    return "-".join(chars[i : i + 5] for i in range(0, 30, 5))


class AccountChangedError(SignInError):
    """An account's record (name or role) no longer matches what the keys back."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class UserService:
    """Creates users, signs them in and keeps wrong guesses in check."""

    def __init__(
        self,
        ctx: ServiceContext,
        keys: CasebookKeys,
        open_database: Callable[[], None],
        audit: AuditService | None = None,
    ) -> None:
        self.ctx = ctx
        self.keys = keys
        # The audit trail, whose seal head teachers hold the key to (services/audit.py).
        self.audit = audit
        # Called once the data key is open: migrates and tidies the database (casebook.py).
        self._open_database = open_database
        # Seals stored files still in clear at a head's sign-in (sealed_files.py).
        self.seal_files: Callable[[], int] | None = None

    # ----- users' records, authenticated with the safeguarding key ----------------------

    def _record_seal(self, record: UserRecord) -> str:
        """The MAC a head's key gives a user's record ("" while no safeguarding key is open)."""
        head_key = self.keys.holder.head
        if head_key is None:
            return ""
        return head_key.record_mac(record.name_key, record.name, record.role)

    def _seal_matches(self, record: UserRecord) -> bool:
        expected = self._record_seal(record)
        return bool(expected) and hmac.compare_digest(expected, record.seal or "")

    def _check_account(self, session: Session, record: UserRecord) -> list[tuple[str, str, str]]:
        """Refuse a sign-in whose role the keys do not back; seal the records of a casebook
        made before records were sealed.

        A head teacher / DSL must hold the safeguarding key, and their record must carry
        its MAC; the key is then kept for this session. Anyone else never holds it here.
        """
        opened = self.keys.opened
        head_key = opened.head_key if opened is not None else None
        is_head = record.role == Role.HEAD.value
        findings: list[tuple[str, str, str]] = []
        self.keys.holder.head = None
        self.keys.holder.head_public = self.keys.head_public()
        if head_key is None and is_head and not self.keys.head_check():
            # A casebook made before the safeguarding key: its first head to sign in makes it.
            head_key = self.keys.establish_head_key()
            recorded_heads = session.scalars(
                select(UserRecord.name).where(UserRecord.role == Role.HEAD.value)
            ).all()
            self.keys.grant_head([record.name, RECOVERY, *recorded_heads])
            if not self.keys.holds_head(RECOVERY):
                # Its recovery key predates the safeguarding key and cannot be given it.
                findings.append(
                    (
                        "recovery key cannot open safeguarding records",
                        "(recovery key)",
                        "make a new one: casebook users new-recovery-key",
                    )
                )
        if head_key is None:
            if is_head and self.keys.awaiting_head(record.name):
                raise SignInError(
                    f"The account {record.name} has been made head teacher but has not yet "
                    "been given the safeguarding key; ask another head teacher to sign in "
                    "once, then try again."
                )
            if is_head:
                raise self._refuse_changed(record.name)
            return []
        self.keys.holder.head = head_key
        if self.keys.note(USERS_SEALED_NOTE) != "1":
            # Records written before they were sealed are taken as they are, this once.
            for other in session.scalars(select(UserRecord)):
                other.seal = self._record_seal(other)
            self.keys.set_note(USERS_SEALED_NOTE, "1")
            session.flush()
        if not self._seal_matches(record) or not is_head:
            # A head's record edited (or made office staff) outside Conduct Casebook.
            self.keys.holder.head = None
            raise self._refuse_changed(record.name)
        heads: list[str] = [RECOVERY]
        for other in session.scalars(select(UserRecord).where(UserRecord.id != record.id)):
            if not self._seal_matches(other):
                log.warning("The record of a user was changed outside the app")
                findings.append(
                    (
                        "user record changed outside Conduct Casebook",
                        other.name,
                        "its name or role no longer matches its seal",
                    )
                )
            elif other.role == Role.HEAD.value:
                heads.append(other.name)
        # Heads made while their account had no key pair get the key once they have one.
        self.keys.grant_head(heads)
        if self.keys.holder.head_public != head_key.public():
            # Office staff seal new safeguarding records to this public half: one swapped
            # in the keyring would seal them to someone else. Put back the right one.
            log.warning("The keyring's safeguarding public key did not match; corrected")
            findings.append(
                ("safeguarding public key corrected", "(keyring)", "it did not match the key")
            )
            self.keys.restore_head_public(head_key)
        self.keys.holder.head_public = head_key.public()
        return findings

    def _refuse_changed(self, name: str) -> AccountChangedError:
        return AccountChangedError(
            name,
            f"The record of the account {name} was changed outside Conduct Casebook, so it "
            "cannot be used to sign in; the head teacher should check the users list (or "
            "restore the school's backup), or use the recovery key.",
        )

    def _hand_over_head_key(self, name: str, role: Role) -> None:
        """Give the safeguarding key to a new head teacher / DSL, or take it away."""
        if role is Role.HEAD:
            self.keys.grant_head([name])
            if self.audit is not None and self.audit.audit_key is not None:
                self.keys.offer_audit_key(self.audit.audit_key)
        else:
            self.keys.revoke_head(name)

    # ----- set-up ---------------------------------------------------------------------

    def has_users(self) -> bool:
        """True once the first user exists."""
        return bool(self.keys.user_names())

    def create_first_user(self, name: str, password: str, *, check_strength: bool = True) -> str:
        """Create the head teacher's account; return the recovery key (shown once only).

        ``check_strength=False`` is for the fictional demonstration casebook only.
        """
        name = check_user_name(name)
        if check_strength:
            check_password_strength(password, name)
        if self.has_users():
            raise ValidationError("This casebook already has users; sign in instead.")
        key = new_recovery_key()
        with self.ctx.sessions.begin() as session:
            if session.scalar(select(UserRecord.id).limit(1)) is not None:
                raise ValidationError("This casebook already has users; sign in instead.")
            session.add(self._new_record(name, Role.HEAD))
        # The recovery wrap first: a user who can sign in always has a recovery key behind.
        audit_key = AuditKey.new()
        self.keys.start_audit_key(audit_key)
        self.keys.wrap_account(
            RECOVERY, normalise_recovery_key(key), head=True, audit_key=audit_key
        )
        self.keys.wrap_account(name, password, head=True, audit_key=audit_key)
        self.keys.set_note(USERS_SEALED_NOTE, "1")
        self.ctx.user = SignedInUser(name, Role.HEAD)
        self.ctx.actor = name
        if self.audit is not None:
            self.audit.audit_key = audit_key
            self.audit.checkpoint(new_key=True)
        self.ctx.audit("set up casebook", name)
        return key

    def _held_audit_key(self, role: Role) -> AuditKey | None:
        """The audit key to give an account of ``role`` along with its password, if held."""
        if role is not Role.HEAD or self.audit is None:
            return None
        return self.audit.audit_key

    def _seal_at_sign_in(self, name: str, with_entry: Callable[[Session], None]) -> None:
        """A head teacher's sign-in: open their copy of the audit key, write the 'signed in'
        entry and make a checkpoint after it (in one transaction when all is well).

        A casebook from before sealing gets its audit key now, held by this head teacher.
        """
        assert self.audit is not None
        audit_key = self.keys.open_audit_key()
        if audit_key is not None:
            self.audit.audit_key = audit_key
            self.audit.record_and_checkpoint(
                self.ctx.actor, "signed in", name, with_entry=with_entry
            )
        else:
            self.audit.record(self.ctx.actor, "signed in", name, with_entry=with_entry)
            if not self.keys.audit_key_exists():
                self.audit.audit_key = self.keys.make_audit_key()
                self.audit.checkpoint(new_key=True)
        if self.audit.audit_key is not None:
            # Heads appointed since their password was last set get a sealed copy now.
            self.keys.offer_audit_key(self.audit.audit_key)

    def _new_record(self, name: str, role: Role) -> UserRecord:
        record = UserRecord(
            name=name,
            name_key=user_key(name),
            role=role.value,
            password_hash="",  # the keyring's wrap is the password check
            failed_sign_ins=0,
            locked=False,
            created_at=self.ctx.now(),
        )
        record.seal = self._record_seal(record)
        return record

    def add_user(self, name: str, role: Role, password: str) -> UserInfo:
        """Add a user with their own password (administrators only)."""
        name = check_user_name(name)
        self.ctx.require(Permission.MANAGE_USERS, action="add user", target=name)
        check_password_strength(password, name)
        with self.ctx.sessions.begin() as session:
            if session.scalar(select(UserRecord).where(UserRecord.name_key == user_key(name))):
                raise ValidationError(f"There is already a user called {name}.", "name")
            record = self._new_record(name, role)
            session.add(record)
            session.flush()
            info = self._info(record, self.keys.lock_states())
        self.keys.wrap_account(
            name, password, head=role is Role.HEAD, audit_key=self._held_audit_key(role)
        )
        return info

    def list_users(self) -> list[UserInfo]:
        """Every user, by name (administrators only)."""
        self.ctx.require(Permission.MANAGE_USERS)
        with self.ctx.sessions() as session:
            records = list(session.scalars(select(UserRecord).order_by(UserRecord.name_key)))
            locks = self.keys.lock_states()
            keyholders = {user_key(n) for n in self.keys.user_names()}
            return [
                replace(self._info(r, locks), disabled=user_key(r.name) not in keyholders)
                for r in records
            ]

    def disable_user(self, name: str) -> None:
        """Stop a leaver signing in, keeping their account and audit entries (administrators).

        Their copy of the casebook's key is taken away; setting them a new password later
        gives it back.
        """
        self.ctx.require(Permission.MANAGE_USERS, action="disable user", target=name)
        with self.ctx.sessions() as session:
            record = self._find(session, name)
            real_name = record.name
            heads = session.scalars(
                select(UserRecord.name).where(
                    UserRecord.role == Role.HEAD.value, UserRecord.id != record.id
                )
            ).all()
            is_head = record.role == Role.HEAD.value
        if self.ctx.user is not None and user_key(self.ctx.user.name) == user_key(real_name):
            raise ValidationError("You cannot disable your own account.", "name")
        keyholders = {user_key(n) for n in self.keys.user_names()}
        if is_head and not [h for h in heads if user_key(h) in keyholders]:
            raise ValidationError(
                f"{real_name} is the only head teacher who can sign in; make another user "
                "head teacher first.",
                "name",
            )
        self.keys.remove(real_name)
        self.ctx.audit("disabled user", real_name, "cannot sign in; audit entries kept")

    def only_user_name(self) -> str | None:
        """The user's name when the casebook has exactly one user."""
        names = self.keys.user_names()
        return names[0] if len(names) == 1 else None

    # ----- signing in -----------------------------------------------------------------

    def sign_in(self, name: str, password: str, *, seal_later: bool = False) -> SignedInUser:
        """Check the password; on success the casebook acts as this user from now on.

        A head teacher's sign-in seals safeguarding records still in clear; with
        ``seal_later`` the caller does it soon after instead (:meth:`seal_outstanding`):
        the window, once its list is painted, since over a million cases the look-up
        reads thousands of pages of the file.
        """
        now = self.ctx.now()
        try:
            key = self.keys.open_with_password(name, password, now)
        except SignInError as refusal:
            self._audit_failures_now()
            raise refusal
        return self._signed_in(name, key, now, seal_later=seal_later)

    def _signed_in(
        self, name: str, key: DataKey, now: datetime, *, seal_later: bool = False
    ) -> SignedInUser:
        try:
            return self._open_as(name, key, now, seal_later=seal_later)
        except STORAGE_ERRORS as error:
            # The key is right, so a database that will not read is damaged (or the disk
            # is full, or read-only): say which, never "wrong password".
            refusal = explain_storage_failure(error, self.ctx.data_dir)
            if refusal is None:
                raise
            log.warning("Signed in, but the casebook could not be opened", exc_info=True)
            raise refusal from error

    def _open_as(
        self, name: str, key: DataKey, now: datetime, *, seal_later: bool = False
    ) -> SignedInUser:
        if self.keys.holder.key is None:
            self.keys.holder.key = key
            self._open_database()
        try:
            with self.ctx.sessions.begin() as session:
                record = session.scalar(
                    select(UserRecord).where(UserRecord.name_key == user_key(name))
                )
                if record is None:
                    raise SignInError(
                        f"The account {name} can open the casebook's key but is not among its "
                        "users; ask the head teacher to add it again."
                    )
                findings = self._check_account(session, record)
                user = SignedInUser(record.name, Role(record.role))
                user_id = record.id
        except AccountChangedError as refusal:
            self._audit_as(
                refusal.name, "sign-in refused", refusal.name, "account record changed outside"
            )
            raise
        # Written once the sign-in's own transaction has ended (one writer at a time).
        for action, target, detail in findings:
            self._audit_as(user.name, action, target, detail)
        self.ctx.user = user
        self.ctx.actor = user.name
        self._audit_failures_now()

        def note_sign_in(session: Session) -> None:
            session.execute(
                update(UserRecord)
                .where(UserRecord.id == user_id)
                .values(last_sign_in_at=now)
                .execution_options(synchronize_session=False)
            )

        # The account's time of sign-in is written with the 'signed in' entry (one
        # transaction, one wait for the disk); a head teacher's checkpoint joins them.
        if self.audit is None:
            with self.ctx.sessions.begin() as session:
                note_sign_in(session)
            self.ctx.audit("signed in", user.name)
        elif user.role is Role.HEAD:
            self._seal_at_sign_in(user.name, note_sign_in)
        else:
            self.audit.record(self.ctx.actor, "signed in", user.name, with_entry=note_sign_in)
            self.audit.audit_key = None  # another user in this process holds no copy
        if not seal_later:
            self.seal_outstanding()
        return user

    def seal_outstanding(self) -> None:
        """Seal safeguarding records still in clear (made before sealing, or left by someone
        without the key); at a head's sign-in, where a quick query usually finds none.
        Nothing happens unless the safeguarding key is open."""
        if self.keys.holder.head is None:
            return
        with self.ctx.sessions.begin() as session:
            sealed = seal_outstanding(session, SEARCHED_EVENTS)
        if self.seal_files is not None:
            sealed += self.seal_files()
        if sealed:
            log.info("Sealed %d safeguarding record(s) that were in clear", sealed)
            self.ctx.audit("sealed safeguarding records", "", f"{sealed} record(s)")

    def _audit_failures_now(self) -> None:
        """Write sign-in failures held in the keyring into the audit trail, once it is open."""
        if self.keys.holder.key is None or self.ctx.audit_sink is None:
            return
        # Each failure leaves the keyring only once it is in the trail: a failure to write
        # one must never lose the others.
        written: list[dict[str, str]] = []
        try:
            for failure in self.keys.pending_audit():
                detail = str(failure.get("detail", ""))
                when = str(failure.get("at", ""))
                action = (
                    "recovery key refused" if detail == "recovery key refused" else "sign-in failed"
                )
                self.ctx.audit_sink(
                    str(failure.get("user", "(no name)")),
                    action,
                    str(failure.get("user", "")),
                    f"{detail} (tried {_uk_time(when)})" if when else detail,
                )
                written.append(failure)
        finally:
            self.keys.drop_pending_audit(written)

    def check_password(self, password: str) -> None:
        """Unlock the window: the signed-in user types their password again."""
        self.sign_in(self.ctx.current_user.name, password)

    # ----- unlocking and passwords ----------------------------------------------------

    def unlock_user(self, name: str) -> None:
        """Clear a locked account's wrong-password count (administrators only)."""
        self.ctx.require(Permission.MANAGE_USERS, action="unlock user", target=name)
        with self.ctx.sessions() as session:
            self._find(session, name)
        self.keys.unlock_account(name)

    def set_password(self, name: str, new_password: str) -> None:
        """Give another user a new password (administrators only); this also unlocks it."""
        self.ctx.require(Permission.MANAGE_USERS, action="set password", target=name)
        with self.ctx.sessions() as session:
            record = self._find(session, name)
            real_name, role = record.name, Role(record.role)
        check_password_strength(new_password, real_name)
        is_head = role is Role.HEAD
        self.keys.wrap_account(
            real_name, new_password, head=is_head, audit_key=self._held_audit_key(role)
        )
        if is_head:
            self.keys.grant_head([real_name])

    def reset_password(self, name: str, recovery_key: str, new_password: str) -> SignedInUser:
        """Set a new password with the recovery key; this also unlocks the account and signs
        the user in."""
        now = self.ctx.now()
        key = self.keys.open_with_recovery_key(recovery_key)
        check_password_strength(new_password, name)
        if self.keys.holder.key is None:
            self.keys.holder.key = key
            self._open_database()
        opened = self.keys.opened
        if opened is not None and opened.head_key is not None:
            self.keys.holder.head = opened.head_key
        with self.ctx.sessions() as session:
            record = self._find(session, name)
            real_name, role = record.name, Role(record.role)
        is_head = role is Role.HEAD
        # The recovery key's copy of the audit key, if it has one, passes to the new password.
        audit_key = self.keys.open_audit_key() if is_head else None
        if audit_key is not None and self.audit is not None:
            self.audit.audit_key = audit_key
        self.keys.wrap_account(real_name, new_password, head=is_head, audit_key=audit_key)
        if not is_head:  # the recovery key's safeguarding key is not this user's to hold
            self.keys.opened = OpenedAccount(key, None)
            self.keys.holder.head = None
        self._audit_as(real_name, "password reset with recovery key", real_name, "")
        return self._signed_in(real_name, key, now)

    def change_password(self, old_password: str, new_password: str) -> None:
        """The signed-in user changes their own password."""
        name = self.ctx.current_user.name
        self.sign_in(name, old_password)
        check_password_strength(new_password, name)
        role = self.ctx.current_user.role
        self.keys.wrap_account(
            name, new_password, head=role is Role.HEAD, audit_key=self._held_audit_key(role)
        )
        self.ctx.audit("changed password", name)

    def _audit_as(self, user: str, action: str, target: str, detail: str) -> None:
        if self.ctx.audit_sink is not None:
            self.ctx.audit_sink(user or "(no name)", action, target, detail)

    def set_role(self, name: str, role: Role) -> UserInfo:
        """Change a user's role (administrators only); one head teacher must always remain."""
        self.ctx.require(
            Permission.MANAGE_USERS, action="change role", target=name, detail=role.value
        )
        refusal: ValidationError | None = None
        with self.ctx.sessions.begin() as session:
            record = self._find(session, name)
            if record.role == Role.HEAD and role is not Role.HEAD:
                other_heads = session.scalars(
                    select(UserRecord.name).where(
                        UserRecord.role == Role.HEAD.value, UserRecord.id != record.id
                    )
                ).all()
                # A head teacher locked out by wrong passwords cannot sign in to take over.
                locks = self.keys.lock_states()
                if not [h for h in other_heads if not locks.get(user_key(h), (False, 0))[0]]:
                    refusal = ValidationError(
                        f"The casebook needs a head teacher who can sign in and {record.name} "
                        "is the only one; make another user head teacher first.",
                        "role",
                    )
            if refusal is None:
                record.role = role.value
                record.seal = self._record_seal(record)
                if role is not Role.HEAD:
                    # A head teacher no more: their copy of the audit key goes.
                    self.keys.take_audit_key(record.name)
            info = self._info(record, self.keys.lock_states())
        if refusal is not None:
            self.ctx.audit("refused: change role", info.name, "the only head teacher")
            raise refusal
        self._hand_over_head_key(info.name, role)
        if self.ctx.user is not None and self.ctx.user.name == info.name:
            # Roles are enforced in services: demoting yourself takes effect at once.
            self.ctx.user = SignedInUser(info.name, role)
        return info

    def replace_recovery_key(self) -> str:
        """A new recovery key, holding the data key and the safeguarding key (heads only);
        the old one stops working. Return it (shown once only)."""
        self.ctx.require(Permission.MANAGE_USERS, action="replace recovery key")
        if self.keys.holder.head is None:
            raise SignInError("Sign in as a head teacher / DSL to make a new recovery key.")
        key = new_recovery_key()
        # The head teachers' audit key passes to the new recovery key too (the old one's
        # copy goes with its wrap).
        self.keys.wrap_account(
            RECOVERY,
            normalise_recovery_key(key),
            head=True,
            audit_key=self._held_audit_key(Role.HEAD),
        )
        return key

    def _find(self, session: Session, name: str) -> UserRecord:
        record = session.scalar(select(UserRecord).where(UserRecord.name_key == user_key(name)))
        if record is None:
            raise ValidationError(f"There is no user called {name}.", "name")
        return record

    @staticmethod
    def _info(record: UserRecord, locks: dict[str, tuple[bool, int]]) -> UserInfo:
        locked, failed = locks.get(user_key(record.name), (False, 0))
        return UserInfo(
            id=record.id,
            name=record.name,
            role=Role(record.role),
            locked=locked,
            failed_sign_ins=failed,
            last_sign_in_at=record.last_sign_in_at,
        )


def _uk_time(stamp: str) -> str:
    """A stored ISO time as the audit trail shows times (UK, London)."""
    try:
        return format_date_time(datetime.fromisoformat(stamp))
    except ValueError:
        return stamp
