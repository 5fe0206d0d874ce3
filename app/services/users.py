"""Users, sign-in, lock-out after wrong passwords, and the recovery key."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import SettingRecord, UserRecord
from app.domain.access import (
    MAX_FAILED_SIGN_INS,
    Permission,
    Role,
    SignedInUser,
    UserInfo,
    back_off,
    check_password_strength,
    check_user_name,
)
from app.domain.errors import AccountLockedError, SignInError, ValidationError
from app.services.context import ServiceContext

RECOVERY_SETTING = "recovery_key_hash"
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_recovery_key() -> str:
    """A random key of 30 characters in six groups, easy to print and type back."""
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(30))
    return "-".join(chars[i : i + 5] for i in range(0, 30, 5))


def _normalise_key(key: str) -> str:
    return "".join(ch for ch in key.upper() if ch.isalnum())


class UserService:
    """Creates users, signs them in and keeps wrong guesses in check."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._hasher = PasswordHasher()  # Argon2id with the library's recommended costs

    # ----- set-up ---------------------------------------------------------------------

    def has_users(self) -> bool:
        """True once the first user exists."""
        with self.ctx.sessions() as session:
            return bool(session.scalar(select(func.count()).select_from(UserRecord)))

    def create_first_user(self, name: str, password: str, *, check_strength: bool = True) -> str:
        """Create the head teacher's account; return the recovery key (shown once only).

        ``check_strength=False`` is for the fictional demonstration casebook only.
        """
        name = check_user_name(name)
        if check_strength:
            check_password_strength(password, name)
        key = new_recovery_key()
        with self.ctx.sessions.begin() as session:
            if session.scalar(select(func.count()).select_from(UserRecord)):
                raise ValidationError("This casebook already has users; sign in instead.")
            session.add(self._new_record(name, Role.HEAD, password))
            session.merge(
                SettingRecord(key=RECOVERY_SETTING, value=self._hasher.hash(_normalise_key(key)))
            )
        self.ctx.user = SignedInUser(name, Role.HEAD)
        self.ctx.actor = name
        self.ctx.audit("set up casebook", name)
        return key

    def _new_record(self, name: str, role: Role, password: str) -> UserRecord:
        return UserRecord(
            name=name,
            name_key=name.casefold(),
            role=role.value,
            password_hash=self._hasher.hash(password),
            failed_sign_ins=0,
            locked=False,
            created_at=self.ctx.now(),
        )

    def add_user(self, name: str, role: Role, password: str) -> UserInfo:
        """Add a user with their own password (administrators only)."""
        name = check_user_name(name)
        self.ctx.require(Permission.MANAGE_USERS, action="add user", target=name)
        check_password_strength(password, name)
        with self.ctx.sessions.begin() as session:
            if session.scalar(select(UserRecord).where(UserRecord.name_key == name.casefold())):
                raise ValidationError(f"There is already a user called {name}.", "name")
            record = self._new_record(name, role, password)
            session.add(record)
            session.flush()
            return _info(record)

    def list_users(self) -> list[UserInfo]:
        """Every user, by name (administrators only)."""
        self.ctx.require(Permission.MANAGE_USERS)
        with self.ctx.sessions() as session:
            return [
                _info(r) for r in session.scalars(select(UserRecord).order_by(UserRecord.name_key))
            ]

    def only_user_name(self) -> str | None:
        """The user's name when the casebook has exactly one user."""
        with self.ctx.sessions() as session:
            names = session.scalars(select(UserRecord.name).limit(2)).all()
        return names[0] if len(names) == 1 else None

    # ----- signing in -----------------------------------------------------------------

    def sign_in(self, name: str, password: str) -> SignedInUser:
        """Check the password; on success the casebook acts as this user from now on."""
        now = self.ctx.now()
        attempted = " ".join(name.split())[:60]
        refusal: SignInError | None = None
        with self.ctx.sessions.begin() as session:
            record = session.scalar(
                select(UserRecord).where(UserRecord.name_key == attempted.casefold())
            )
            if record is None:
                refusal = SignInError("The user name or password is not right.")
            elif record.locked:
                refusal = AccountLockedError(
                    f"The account {record.name} is locked after {MAX_FAILED_SIGN_INS} wrong "
                    "passwords in a row; ask the head teacher to unlock it, or use the "
                    "recovery key."
                )
            elif record.retry_after is not None and now < record.retry_after:
                wait = max(1, int((record.retry_after - now).total_seconds() + 0.999))
                refusal = AccountLockedError(
                    f"Too many wrong passwords; wait {wait} second{'s' if wait != 1 else ''} "
                    "and try again."
                )
            elif not self._matches(record.password_hash, password):
                record.failed_sign_ins += 1
                record.retry_after = now + back_off(record.failed_sign_ins)
                left = MAX_FAILED_SIGN_INS - record.failed_sign_ins
                if left <= 0:
                    record.locked = True
                    refusal = AccountLockedError(
                        f"The password is not right. The account {record.name} is now locked; "
                        "ask the head teacher to unlock it, or use the recovery key."
                    )
                elif left <= 3:
                    refusal = SignInError(
                        f"The user name or password is not right; {left} more wrong "
                        f"attempt{'s' if left != 1 else ''} will lock the account."
                    )
                else:
                    refusal = SignInError("The user name or password is not right.")
            else:
                record.failed_sign_ins = 0
                record.retry_after = None
                record.last_sign_in_at = now
                if self._hasher.check_needs_rehash(record.password_hash):
                    record.password_hash = self._hasher.hash(password)
                user = SignedInUser(record.name, Role(record.role))
        if refusal is not None:
            self._audit_as(attempted, "sign-in failed", attempted, refusal.message)
            raise refusal
        self.ctx.user = user
        self.ctx.actor = user.name
        self.ctx.audit("signed in", user.name)
        return user

    def check_password(self, password: str) -> None:
        """Unlock the window: the signed-in user types their password again."""
        self.sign_in(self.ctx.current_user.name, password)

    def _matches(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _audit_as(self, user: str, action: str, target: str, detail: str) -> None:
        if self.ctx.audit_sink is not None:
            self.ctx.audit_sink(user or "(no name)", action, target, detail)

    # ----- unlocking and passwords ----------------------------------------------------

    def unlock_user(self, name: str) -> None:
        """Clear a locked account's wrong-password count (administrators only)."""
        self.ctx.require(Permission.MANAGE_USERS, action="unlock user", target=name)
        with self.ctx.sessions.begin() as session:
            record = self._find(session, name)
            record.locked = False
            record.failed_sign_ins = 0
            record.retry_after = None

    def reset_password(self, name: str, recovery_key: str, new_password: str) -> None:
        """Set a new password with the recovery key; this also unlocks the account."""
        with self.ctx.sessions() as session:
            setting = session.get(SettingRecord, RECOVERY_SETTING)
            stored = setting.value if setting else ""
        if not stored or not self._matches(stored, _normalise_key(recovery_key)):
            self._audit_as(name, "recovery key refused", name, "")
            raise SignInError("The recovery key is not right; check it against the printed copy.")
        check_password_strength(new_password, name)
        with self.ctx.sessions.begin() as session:
            record = self._find(session, name)
            record.password_hash = self._hasher.hash(new_password)
            record.locked = False
            record.failed_sign_ins = 0
            record.retry_after = None
        self._audit_as(name, "password reset with recovery key", name, "")

    def change_password(self, old_password: str, new_password: str) -> None:
        """The signed-in user changes their own password."""
        name = self.ctx.current_user.name
        self.sign_in(name, old_password)
        check_password_strength(new_password, name)
        with self.ctx.sessions.begin() as session:
            self._find(session, name).password_hash = self._hasher.hash(new_password)
        self.ctx.audit("changed password", name)

    def set_password(self, name: str, new_password: str) -> None:
        """An administrator sets another user's forgotten password; this also unlocks it."""
        self.ctx.require(Permission.MANAGE_USERS, action="set password", target=name)
        with self.ctx.sessions.begin() as session:
            record = self._find(session, name)
            check_password_strength(new_password, record.name)
            record.password_hash = self._hasher.hash(new_password)
            record.locked = False
            record.failed_sign_ins = 0
            record.retry_after = None

    def set_role(self, name: str, role: Role) -> UserInfo:
        """Change a user's role (administrators only); one head teacher must always remain."""
        self.ctx.require(
            Permission.MANAGE_USERS, action="change role", target=name, detail=role.value
        )
        refusal: ValidationError | None = None
        with self.ctx.sessions.begin() as session:
            record = self._find(session, name)
            if record.role == Role.HEAD and role is not Role.HEAD:
                other_heads = session.scalar(
                    select(func.count())
                    .select_from(UserRecord)
                    .where(
                        UserRecord.role == Role.HEAD.value,
                        UserRecord.locked.is_(False),
                        UserRecord.id != record.id,
                    )
                )
                if not other_heads:
                    refusal = ValidationError(
                        f"The casebook needs a head teacher who can sign in and {record.name} "
                        "is the only one; make another user head teacher first.",
                        "role",
                    )
            if refusal is None:
                record.role = role.value
            info = _info(record)
        if refusal is not None:
            self.ctx.audit("refused: change role", info.name, "the only head teacher")
            raise refusal
        if self.ctx.user is not None and self.ctx.user.name == info.name:
            # Roles are enforced in services: demoting yourself takes effect at once.
            self.ctx.user = SignedInUser(info.name, role)
        return info

    def _find(self, session: Session, name: str) -> UserRecord:
        record = session.scalar(
            select(UserRecord).where(UserRecord.name_key == " ".join(name.split()).casefold())
        )
        if record is None:
            raise ValidationError(f"There is no user called {name}.", "name")
        return record


def _info(record: UserRecord) -> UserInfo:
    return UserInfo(
        id=record.id,
        name=record.name,
        role=Role(record.role),
        locked=record.locked,
        failed_sign_ins=record.failed_sign_ins,
        last_sign_in_at=record.last_sign_in_at,
    )
