"""What every service needs: a session factory, the clock, the user and the Code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.domain.code_of_conduct import CodeOfConduct, load_code
from app.domain.dates import utc_now

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

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql': which database the casebook lives in."""
        bind = self.sessions.kw.get("bind")
        return str(bind.dialect.name) if bind is not None else "sqlite"

    def now(self) -> datetime:
        """The current time in UTC (from the injectable clock)."""
        return self.clock()
