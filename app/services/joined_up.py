"""Cases joined up: other cases about the same person, account handle or post address.

The same parent often posts again, from the same account or about the same thread. The
case screen lists the other cases, the Report-a-post wizard offers them as the handle or
address is typed, and the case list can be narrowed to cases whose author wrote more than
one of them. A role that may not see safeguarding cases never learns one exists here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, func, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session

from app.db.models import CasePersonRecord, CaseRecord, PersonRecord
from app.db.sealing import SealedText, Unreadable, is_safeguarding
from app.domain.access import Permission
from app.domain.people import CaseRole
from app.domain.status import STATUS_LABELS, CaseStatus
from app.services.cases import visible_cases
from app.services.context import ServiceContext
from app.services.listing import sealed_search_text

MAX_RELATED = 50
# Whom a case is about: the author of the post and its subject (a pupil, a member of
# staff). Someone who only reported or witnessed two posts does not join them up.
_ABOUT = (CaseRole.AUTHOR.value, CaseRole.SUBJECT.value)


@dataclass(frozen=True)
class RelatedCase:
    """Another case joined to this one, and why."""

    id: int
    reference: str
    title: str
    status: CaseStatus
    reasons: tuple[str, ...]  # "same person: Dale Pike", "same account: @dale", ...

    @property
    def status_label(self) -> str:
        """'Awaiting removal'."""
        return STATUS_LABELS[self.status]

    @property
    def describe(self) -> str:
        """'SM-2026-0003 — Post about the fair (Closed): same account @dale'."""
        return f"{self.reference} — {self.title} ({self.status_label}): {'; '.join(self.reasons)}"


def _handle_key(handle: str) -> str:
    return " ".join(handle.casefold().lstrip("@").split())


def _url_key(url: str) -> str:
    text = url.strip().casefold().rstrip("/")
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    return text.removeprefix("www.")


def _url_forms(key: str) -> list[str]:
    """The ways an address with this key is usually written: with or without its scheme,
    'www.' and a closing slash or two."""
    return [
        f"{scheme}{www}{key}{slash}"
        for scheme in ("", "https://", "http://")
        for www in ("", "www.")
        for slash in ("", "/", "//")
    ]


class JoinedUpService:
    """Other cases about the same person, account or post."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        # Sealed handles and post addresses already opened, by stored token, as their keys.
        self._opened_keys: dict[str, str] = {}

    def related_cases(self, case_id: int) -> list[RelatedCase]:
        """Other cases about the same person (as author or subject), handle or post address."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        with self.ctx.sessions() as session:
            case = session.get(CaseRecord, case_id)
            if case is None:
                return []
            people = list(
                session.scalars(
                    select(CasePersonRecord.person_id).where(
                        CasePersonRecord.case_id == case_id, CasePersonRecord.role.in_(_ABOUT)
                    )
                )
            )
            return self._related(
                session, case.account_handle, case.post_url, people, exclude=case_id
            )

    def related_to(
        self, handle: str = "", url: str = "", person_ids: Iterable[int] = ()
    ) -> list[RelatedCase]:
        """Cases about this handle, post address or people: for a case not yet opened."""
        self.ctx.require(Permission.VIEW_CASES)
        with self.ctx.sessions() as session:
            return self._related(session, handle, url, list(person_ids), exclude=None)

    def _sealed_candidates(self, session: Session) -> list[tuple[int, str, str]]:
        """Every sealed case's handle and post address, opened and reduced to their keys.

        Selecting each case asks again, over thousands of sealed cases in a large casebook:
        the stored tokens are read each time (a changed value is a new token), but each is
        opened only once (a key exchange apiece, a tenth of a millisecond or more).
        """
        handle_type = CaseRecord.__table__.c.account_handle.type
        url_type = CaseRecord.__table__.c.post_url.type
        assert isinstance(handle_type, SealedText) and isinstance(url_type, SealedText)
        dialect = session.get_bind().dialect
        opened = self._opened_keys
        if len(opened) > 50_000:
            opened.clear()

        def key_of(token: Any, column: SealedText, reduce: Callable[[str], str]) -> str:
            if token is None:
                return ""  # no handle or address: matches none
            found = opened.get(token)
            if found is None:
                value = column.process_result_value(token, dialect)
                found = opened[token] = reduce(str(value or ""))
            return found

        return [
            (
                int(other),
                key_of(handle_token, handle_type, _handle_key),
                key_of(url_token, url_type, _url_key),
            )
            for other, handle_token, url_token in session.execute(
                select(
                    CaseRecord.id,
                    type_coerce(CaseRecord.account_handle, Text),
                    type_coerce(CaseRecord.post_url, Text),
                ).where(sealed_search_text())  # through its index, not by reading every case
            )
        ]

    def _related(
        self,
        session: Session,
        handle: str,
        url: str,
        person_ids: list[int],
        exclude: int | None,
    ) -> list[RelatedCase]:
        reasons: dict[int, list[str]] = {}
        handle_key = "" if isinstance(handle, Unreadable) else _handle_key(handle)
        url_key = "" if isinstance(url, Unreadable) else _url_key(url)
        visible = visible_cases(self.ctx)
        if person_ids:
            rows = session.execute(
                select(CasePersonRecord.case_id, PersonRecord.name)
                .join(PersonRecord, PersonRecord.id == CasePersonRecord.person_id)
                .join(CaseRecord, CaseRecord.id == CasePersonRecord.case_id)
                .where(
                    CasePersonRecord.person_id.in_(person_ids),
                    CasePersonRecord.role.in_(_ABOUT),
                    *visible,
                )
            ).all()
            for other, name in rows:
                if not isinstance(name, Unreadable):
                    reason = f"same person: {name}"
                    if reason not in reasons.setdefault(other, []):
                        reasons[other].append(reason)
        if handle_key or url_key:
            conditions = []
            if handle_key:
                # Stored in clear for every case but a safeguarding one: compared in SQL,
                # through the index of exactly this expression (migration 0021).
                conditions.append(
                    func.ltrim(func.lower(CaseRecord.account_handle), literal_column("'@'"))
                    == handle_key
                )
            if url_key:
                # The address as it may have been typed around the same key, looked up in
                # the index of lower(trim(post_url)) rather than by reading every case.
                conditions.append(
                    func.lower(func.trim(CaseRecord.post_url)).in_(_url_forms(url_key))
                )
            candidates = [
                (int(other), _handle_key(str(other_handle or "")), _url_key(str(other_url or "")))
                for other, other_handle, other_url in session.execute(
                    select(CaseRecord.id, CaseRecord.account_handle, CaseRecord.post_url).where(
                        or_(*conditions), *visible
                    )
                )
            ]
            if self.ctx.may(Permission.SAFEGUARDING):
                # Sealed cases: their words are opened here, as only this role can.
                candidates += self._sealed_candidates(session)
            for other, other_handle_key, other_url_key in candidates:
                if handle_key and other_handle_key == handle_key:
                    reasons.setdefault(other, []).append(f"same account: {handle.strip()}")
                if url_key and other_url_key == url_key:
                    reasons.setdefault(other, []).append("same post address")
        if exclude is not None:
            reasons.pop(exclude, None)
        if not reasons:
            return []
        cases = session.scalars(
            select(CaseRecord)
            .where(CaseRecord.id.in_(list(reasons)), *visible)
            .order_by(CaseRecord.ref_year.desc(), CaseRecord.ref_number.desc())
            .limit(MAX_RELATED)
        ).all()
        return [
            RelatedCase(
                id=c.id,
                reference=c.reference,
                title=str(c.title),
                status=CaseStatus(c.status),
                reasons=tuple(dict.fromkeys(reasons[c.id])),
            )
            for c in cases
            if self.ctx.may(Permission.SAFEGUARDING) or not is_safeguarding(c.categories)
        ]
