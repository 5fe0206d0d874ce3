"""The columns the case list sorts and searches on, kept in step with cases and people."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import CasePersonRecord, CaseRecord, PersonRecord
from app.db.sealing import Unreadable
from app.domain.people import CaseRole
from app.domain.search import fold


def refresh_listing_columns(session: Session, case: CaseRecord) -> None:
    """Recompute the columns the case list sorts and searches on."""
    links = session.execute(
        select(PersonRecord.name, CasePersonRecord.role)
        .join(CasePersonRecord, CasePersonRecord.person_id == PersonRecord.id)
        .where(CasePersonRecord.case_id == case.id)
        .order_by(CasePersonRecord.created_at, PersonRecord.id)
    ).all()
    parts = [case.title, case.account_handle, case.summary, *(name for name, _ in links)]
    if any(isinstance(part, Unreadable) for part in parts):
        return  # sealed words this process cannot open: the stored columns stay as they are
    authors = [name for name, role in links if role == CaseRole.AUTHOR.value]
    # The list shows the handle when no author is linked, so sort on what it shows.
    case.poster = authors[0] if authors else case.account_handle
    names = " ".join(name for name, _role in links)
    parts = [case.reference, case.title, case.platform, case.account_handle, names, case.summary]
    case.search_text = fold(" ".join(part for part in parts if part))


def refresh_cases_of_person(session: Session, person_id: int) -> None:
    """Recompute the list columns of every case a person is linked to (after a rename)."""
    cases = session.scalars(
        select(CaseRecord)
        .join(CasePersonRecord, CasePersonRecord.case_id == CaseRecord.id)
        .where(CasePersonRecord.person_id == person_id)
        .distinct()
    ).all()
    for case in cases:
        refresh_listing_columns(session, case)
