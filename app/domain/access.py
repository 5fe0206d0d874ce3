"""Who may do what: roles, permissions, password rules and the back-off after wrong passwords."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.errors import ValidationError
from app.domain.validation import hidden_characters


class Role(StrEnum):
    """A user's role in the school office."""

    HEAD = "head"
    OFFICE = "office"
    READ_ONLY = "read_only"


ROLE_LABELS: dict[Role, str] = {
    Role.HEAD: "Head teacher / designated safeguarding lead",
    Role.OFFICE: "Office staff",
    Role.READ_ONLY: "Read-only (governors’ reports)",
}


class Permission(StrEnum):
    """One kind of thing a user may do; services ask for these before they act."""

    VIEW_CASES = "view_cases"
    EDIT_CASES = "edit_cases"
    LETTERS = "letters"
    SAFEGUARDING = "safeguarding"
    REPORTS = "reports"
    SETTINGS = "settings"
    MANAGE_USERS = "manage_users"
    AUDIT = "audit"
    BACKUP = "backup"


_OFFICE = frozenset(
    {Permission.VIEW_CASES, Permission.EDIT_CASES, Permission.LETTERS, Permission.REPORTS}
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.HEAD: frozenset(Permission),
    Role.OFFICE: _OFFICE,
    Role.READ_ONLY: frozenset({Permission.REPORTS}),
}

PERMISSION_REFUSALS: dict[Permission, str] = {
    Permission.VIEW_CASES: "see cases",
    Permission.EDIT_CASES: "change cases",
    Permission.LETTERS: "issue or read letters",
    Permission.SAFEGUARDING: "open safeguarding cases or their evidence",
    Permission.REPORTS: "see reports",
    Permission.SETTINGS: "change the school's settings",
    Permission.MANAGE_USERS: "manage users",
    Permission.AUDIT: "see the audit trail",
    Permission.BACKUP: "back up or restore the casebook",
}

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_SIGN_INS = 10

# Passwords people choose first; refused whatever their length.
_COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "qwertyuiop",
        "1234567890",
        "0123456789",
        "123456789",
        "iloveyou",
        "letmein",
        "welcome",
        "welcome1",
        "administrator",
        "headteacher",
        "schooloffice",
        "safeguarding",
        "primaryschool",
    }
)


def parse_role(value: str) -> Role:
    """A role from its id or label, or a clear refusal naming the allowed ones."""
    cleaned = value.strip().lower().replace("-", "_").replace(" ", "_")
    for role in Role:
        if cleaned == role.value:
            return role
    allowed = ", ".join(r.value for r in Role)
    raise ValidationError(f"'{value}' is not a role; use one of: {allowed}.", "role")


def check_user_name(name: str) -> str:
    """The cleaned user name, or a refusal."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationError("Enter a user name.", "name")
    if len(cleaned) > 60:
        raise ValidationError("A user name can be at most 60 characters.", "name")
    if any(ord(ch) < 32 for ch in cleaned):
        raise ValidationError("A user name cannot contain control characters.", "name")
    hidden = hidden_characters(cleaned)
    if hidden:
        raise ValidationError(
            "A user name cannot contain invisible characters that change how it is shown "
            f"({', '.join(hidden)}).",
            "name",
        )
    return cleaned


def check_password_strength(password: str, user_name: str = "") -> None:
    """Refuse a password that is short, common, repetitive or contains the user name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long; "
            "a few unrelated words make a strong one.",
            "password",
        )
    lowered = password.lower()
    squashed = re.sub(r"[^a-z0-9]", "", lowered)
    if lowered in _COMMON or squashed in _COMMON or len(set(lowered)) < 5:
        raise ValidationError(
            "That password is too easy to guess; choose a few unrelated words.", "password"
        )
    name = re.sub(r"[^a-z0-9]", "", user_name.lower())
    if len(name) >= 3 and name in squashed:
        raise ValidationError("The password must not contain the user name.", "password")


def back_off(failures: int) -> timedelta:
    """How long to wait before the next try after ``failures`` wrong passwords in a row."""
    if failures < 3:
        return timedelta(0)
    return timedelta(seconds=min(2 ** (failures - 3), 60))


@dataclass(frozen=True)
class SignedInUser:
    """Who is working now, and what their role lets them do."""

    name: str
    role: Role

    def may(self, permission: Permission) -> bool:
        """True when this user's role includes ``permission``."""
        return permission in ROLE_PERMISSIONS[self.role]


@dataclass(frozen=True)
class UserInfo:
    """One user as the user list shows it (never the password hash)."""

    id: int
    name: str
    role: Role
    locked: bool
    failed_sign_ins: int
    last_sign_in_at: datetime | None
    disabled: bool = False  # a leaver: kept with their audit entries, cannot sign in
