"""What every service needs: a session factory, the clock, the user and the Code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import CaseRecord
from app.domain.access import (
    PERMISSION_REFUSALS,
    ROLE_LABELS,
    Permission,
    Role,
    SignedInUser,
)
from app.domain.categories import Category
from app.domain.code_of_conduct import CodeOfConduct, load_code
from app.domain.dates import utc_now
from app.domain.errors import AccessDenied

# Writes one line of the audit trail: (user, action, target, detail).
AuditSink = Callable[[str, str, str, str], None]

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"


def resources_dir() -> Path:
    """The folder holding the Code, fonts and templates (also inside a frozen build)."""
    import sys

    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return RESOURCES


def load_default_code() -> CodeOfConduct:
    """The Code of Conduct shipped in resources/."""
    return load_code(resources_dir() / "code_of_conduct" / "code_of_conduct.json")


@dataclass
class ServiceContext:
    """Shared by every service of one open casebook."""

    sessions: sessionmaker[Session]
    actor: str
    code: CodeOfConduct
    data_dir: Path
    clock: Callable[[], datetime] = utc_now
    # Until someone signs in, the context acts for the program that opened the casebook
    # (set-up, tests, scripts in-process). The CLI and the window always sign in first.
    user: SignedInUser | None = None
    audit_sink: AuditSink | None = field(default=None, repr=False)

    @property
    def current_user(self) -> SignedInUser:
        """The signed-in user (or the opening program, with the head teacher's rights)."""
        return self.user or SignedInUser(self.actor, Role.HEAD)

    def may(self, permission: Permission) -> bool:
        """True when the current user's role includes ``permission``."""
        return self.current_user.may(permission)

    def audit(self, action: str, target: str = "", detail: str = "") -> None:
        """Append one line to the audit trail in the current user's name."""
        if self.audit_sink is not None:
            self.audit_sink(self.actor, action, target, detail)

    def require(
        self,
        permission: Permission,
        *,
        case_id: int | None = None,
        action: str = "",
        target: str = "",
        detail: str = "",
    ) -> None:
        """Refuse (AccessDenied) unless the user's role allows this; audit it when named.

        With ``case_id``, a case marked safeguarding also needs the safeguarding permission,
        and the case's reference becomes the audit target. The one place roles are enforced.
        """
        user = self.current_user
        refusal = None if user.may(permission) else PERMISSION_REFUSALS[permission]
        if refusal is None and case_id is not None:
            with self.sessions() as session:
                row = session.execute(
                    select(CaseRecord.reference, CaseRecord.categories).where(
                        CaseRecord.id == case_id
                    )
                ).first()
            if row is not None:
                target = target or row.reference
                safeguarding = Category.SAFEGUARDING.value in row.categories.split(",")
                if safeguarding and not user.may(Permission.SAFEGUARDING):
                    refusal = PERMISSION_REFUSALS[Permission.SAFEGUARDING]
                if safeguarding and detail:
                    # The audit trail opens with the data key: no file names or words of a
                    # sealed case in it (docs/security.md).
                    detail = "(safeguarding record)"
        if action:
            self.audit(("refused: " if refusal else "") + action, target, detail)
        if refusal is not None:
            raise AccessDenied(
                f"Your role ({ROLE_LABELS[user.role]}) does not allow you to {refusal}."
            )

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql': which database the casebook lives in."""
        bind = self.sessions.kw.get("bind")
        return str(bind.dialect.name) if bind is not None else "sqlite"

    def now(self) -> datetime:
        """The current time in UTC (from the injectable clock)."""
        return self.clock()
