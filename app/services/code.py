"""Versions of the Code of Conduct: the shipped one and any revised Code the school adopted."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.db.models import CodeVersionRecord
from app.domain.access import Permission
from app.domain.code_of_conduct import (
    CodeOfConduct,
    code_from_dict,
    code_to_dict,
    parse_code_text,
)
from app.domain.dates import format_long_date, london_today
from app.domain.errors import NotFoundError, ValidationError
from app.services.context import ServiceContext, load_default_code

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CodeVersionInfo:
    """One version of the Code as the list of versions shows it."""

    version: str
    title: str
    effective_on: date
    adopted_by: str  # empty for the version shipped with the app
    source_name: str
    in_force: bool
    standards: tuple[tuple[int, str], ...]  # (clause number, standard id)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class CodeService:
    """Adopt a revised Code, list the versions, and say which one is in force on a day."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._shipped = load_default_code()

    @property
    def shipped_version(self) -> str:
        """The version shipped with the app (what letters before versions quoted)."""
        return self._shipped.version

    def _all(self) -> list[CodeOfConduct]:
        """Every version, oldest first (the shipped one first)."""
        with self.ctx.sessions() as session:
            rows = session.scalars(
                select(CodeVersionRecord).order_by(CodeVersionRecord.effective_on)
            ).all()
            adopted = [code_from_dict(json.loads(row.content)) for row in rows]
        return [self._shipped, *adopted]

    def in_force(self, on: date | None = None) -> CodeOfConduct:
        """The version in force on ``on`` (today by default)."""
        day = (on or london_today(self.ctx.now())).isoformat()
        current = self._shipped
        for code in self._all()[1:]:
            if code.in_force_from <= day:
                current = code
        return current

    def refresh(self) -> CodeOfConduct:
        """Make the version in force today the one every service quotes."""
        self.ctx.code = self.in_force()
        return self.ctx.code

    def by_version(self, version: str) -> CodeOfConduct:
        """One version by its number."""
        for code in self._all():
            if code.version == version:
                return code
        raise NotFoundError(f"There is no version {version} of the Code of Conduct.")

    def versions(self) -> list[CodeVersionInfo]:
        """Every version, oldest first, with the one in force today marked."""
        in_force = self.in_force().version
        with self.ctx.sessions() as session:
            who = {
                row.version: (row.adopted_by, row.source_name)
                for row in session.scalars(select(CodeVersionRecord)).all()
            }
        return [
            CodeVersionInfo(
                version=code.version,
                title=code.title,
                effective_on=date.fromisoformat(code.in_force_from),
                adopted_by=who.get(code.version, ("", ""))[0],
                source_name=who.get(code.version, ("", "shipped with the app"))[1],
                in_force=code.version == in_force,
                standards=tuple((c.number, c.id) for c in code.standards),
            )
            for code in self._all()
        ]

    def preview(
        self, text: str, version: str, effective_on: date, mapping: dict[int, str] | None = None
    ) -> CodeOfConduct:
        """Read a revised Code's text and check it, without adopting it."""
        code = parse_code_text(text, version, effective_on.isoformat(), mapping)
        today = london_today(self.ctx.now())
        if effective_on < today:
            raise ValidationError(
                "A revised Code cannot take effect before the day it is adopted; choose "
                f"{format_long_date(today)} or later."
            )
        versions = self._all()
        if any(c.version == code.version for c in versions):
            raise ValidationError(
                f"Version {code.version} of the Code is already recorded; give the revised "
                "Code a new version number."
            )
        newest = versions[-1]
        if _version_key(code.version) <= _version_key(newest.version):
            raise ValidationError(
                f"The revised Code’s version must be later than {newest.version}, the "
                "newest recorded."
            )
        if effective_on.isoformat() <= newest.in_force_from:
            raise ValidationError(
                f"The revised Code must take effect after version {newest.version} did, on "
                f"{format_long_date(date.fromisoformat(newest.in_force_from))}."
            )
        return code

    def adopt(
        self,
        text: str,
        source_name: str,
        version: str,
        effective_on: date,
        mapping: dict[int, str] | None = None,
    ) -> CodeVersionInfo:
        """Record a revised Code (its words as written) to take effect on ``effective_on``.

        The versions before it are kept: letters already issued keep the words they quoted.
        """
        self.ctx.require(
            Permission.SETTINGS, action="adopt revised Code", target=f"version {version}"
        )
        code = self.preview(text, version, effective_on, mapping)
        with self.ctx.sessions.begin() as session:
            session.add(
                CodeVersionRecord(
                    version=code.version,
                    effective_on=effective_on,
                    content=json.dumps(code_to_dict(code), ensure_ascii=False),
                    source_name=source_name[:260],
                    adopted_at=self.ctx.now(),
                    adopted_by=self.ctx.actor,
                )
            )
        log.info("Adopted version %s of the Code, in force from %s", code.version, effective_on)
        self.refresh()
        return next(v for v in self.versions() if v.version == code.version)
