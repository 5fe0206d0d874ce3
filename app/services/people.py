"""Parents, carers, visitors and staff: add, change, find."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from app.db.models import CasePersonRecord, CaseRecord, PersonRecord
from app.domain.access import Permission
from app.domain.categories import Category
from app.domain.errors import NotFoundError, ValidationError
from app.domain.people import PersonKind, name_key
from app.domain.records import Person, PersonDraft
from app.domain.search import fold
from app.domain.validation import check_person_draft
from app.security.crypto import SEALED_PREFIX
from app.services.context import ServiceContext
from app.services.listing import refresh_cases_of_person


def person_from_record(record: PersonRecord) -> Person:
    """Turn a database row into a plain ``Person``."""
    return Person(
        id=record.id,
        name=record.name,
        kind=PersonKind(record.kind),
        address_lines=tuple(line for line in record.address.split("\n") if line),
        postcode=record.postcode,
        email=record.email,
        phone=record.phone,
        relationship=record.relationship_to_pupils,
        title=record.title or "",
        forenames=record.forenames or "",
        surname=record.surname or "",
        preferred_name=record.preferred_name or "",
        year_group=record.year_group or "",
        reg_group=record.reg_group or "",
        mis_id=record.mis_id or "",
        parental_responsibility=record.parental_responsibility,
        contact_priority=record.contact_priority,
        court_order=bool(record.court_order),
        contact_restriction=bool(record.contact_restriction),
    )


def write_person(record: PersonRecord, clean: PersonDraft) -> None:
    """Copy a checked draft onto a row (the one place that knows which fields there are)."""
    record.name = clean.name
    record.name_key = name_key(clean.name)
    record.search_name = fold(record.name_key)
    record.kind = clean.kind.value
    record.address = "\n".join(clean.address_lines)
    record.postcode = clean.postcode
    record.email = clean.email
    record.phone = clean.phone
    record.relationship_to_pupils = clean.relationship
    record.title = clean.title
    record.forenames = clean.forenames
    record.surname = clean.surname
    record.preferred_name = clean.preferred_name
    record.year_group = clean.year_group
    record.reg_group = clean.reg_group
    record.mis_id = clean.mis_id
    record.parental_responsibility = clean.parental_responsibility
    record.contact_priority = clean.contact_priority
    record.court_order = clean.court_order
    record.contact_restriction = clean.contact_restriction


def visible_people(ctx: ServiceContext) -> list[ColumnElement[bool]]:
    """Conditions that keep people who appear only on safeguarding cases out of every
    look-up by a role that may not see those cases (a person on no case yet is visible)."""
    if ctx.may(Permission.SAFEGUARDING):
        return []
    linked = exists().where(CasePersonRecord.person_id == PersonRecord.id)
    on_a_visible_case = exists().where(
        CasePersonRecord.person_id == PersonRecord.id,
        CasePersonRecord.case_id == CaseRecord.id,
        ~CaseRecord.categories.contains(Category.SAFEGUARDING.value),
    )
    return [or_(~linked, on_a_visible_case)]


class PersonService:
    """People who appear in cases."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def add_person(self, draft: PersonDraft) -> Person:
        """Record a new person after checking what was typed."""
        self.ctx.require(Permission.EDIT_CASES)
        clean = check_person_draft(draft)
        with self.ctx.sessions.begin() as session:
            return person_from_record(insert_person(session, clean, self.ctx.now()))

    def update_person(self, person_id: int, draft: PersonDraft) -> Person:
        """Save changed details of a person."""
        self.ctx.require(Permission.EDIT_CASES)
        clean = check_person_draft(draft)
        with self.ctx.sessions.begin() as session:
            record = self._visible_person(session, person_id)
            write_person(record, clean)
            record.updated_at = self.ctx.now()
            session.flush()
            # The case list shows and searches the author's name from its own columns.
            refresh_cases_of_person(session, person_id)
            return person_from_record(record)

    def get_person(self, person_id: int) -> Person:
        """One person by id."""
        self.ctx.require(Permission.VIEW_CASES)
        with self.ctx.sessions() as session:
            return person_from_record(self._visible_person(session, person_id))

    def _visible_person(self, session: Session, person_id: int) -> PersonRecord:
        record = session.scalar(
            select(PersonRecord).where(PersonRecord.id == person_id, *visible_people(self.ctx))
        )
        if record is None:  # the same words whether hidden or gone
            raise NotFoundError("That person no longer exists.")
        return record

    def search_people(self, text: str, limit: int = 50) -> list[Person]:
        """People whose name contains ``text``, case and accents aside ("zoe" finds Zoë,
        "lukas" Łukasiewicz, as the case list's search does), by name."""
        self.ctx.require(Permission.VIEW_CASES)
        key = name_key(text)
        folded = fold(key)
        query = (
            select(PersonRecord)
            .where(*visible_people(self.ctx))
            .order_by(PersonRecord.name_key)
            .limit(limit)
        )
        if key:
            # The name as written too: a row written without its folded name still matches.
            query = query.where(
                or_(
                    PersonRecord.search_name.contains(folded, autoescape=True),
                    PersonRecord.name_key.contains(key, autoescape=True),
                )
            )
        with self.ctx.sessions() as session:
            records = list(session.scalars(query).all())
            if self.ctx.may(Permission.SAFEGUARDING):
                sealed = [r for r in self._sealed_people(session) if folded in fold(r.name_key)]
                records = sorted(records + sealed, key=lambda r: str(r.name_key))[:limit]
            return [person_from_record(r) for r in records]

    @staticmethod
    def _sealed_people(session: Session) -> list[PersonRecord]:
        """People only safeguarding cases name: their names are sealed, so matched here."""
        return list(
            session.scalars(
                select(PersonRecord).where(PersonRecord.name_key.startswith(SEALED_PREFIX))
            ).all()
        )

    def find_person(self, name_or_id: str) -> Person:
        """The person with this id, or the one person with exactly this name."""
        self.ctx.require(Permission.VIEW_CASES)
        text = name_or_id.strip()
        if text.isdigit():
            return self.get_person(int(text))
        key = name_key(text)
        if not key:
            raise ValidationError("Please give the person's name or number.", field="person")
        matches = [p for p in self.search_people(text, limit=1000) if name_key(p.name) == key]
        if not matches:
            raise NotFoundError(
                f"No one called {text} is recorded; add them with 'casebook person add'."
            )
        if len(matches) > 1:
            numbers = ", ".join(str(p.id) for p in matches)
            raise ValidationError(
                f"More than one person is called {text} (numbers {numbers}); give the number "
                "instead of the name."
            )
        return matches[0]

    def match_or_create(self, name: str, kind: PersonKind = PersonKind.PARENT) -> Person:
        """The one person with exactly this name, or a new person; refuse if ambiguous."""
        self.ctx.require(Permission.EDIT_CASES)
        with self.ctx.sessions.begin() as session:
            return person_from_record(match_or_create_in(session, self.ctx, name, kind))


def insert_person(session: Session, clean: PersonDraft, now: datetime) -> PersonRecord:
    """Add a checked person to ``session`` (the caller owns the transaction)."""
    record = PersonRecord(created_at=now, updated_at=now)
    write_person(record, clean)
    session.add(record)
    session.flush()
    return record


def match_or_create_in(
    session: Session, ctx: ServiceContext, name: str, kind: PersonKind = PersonKind.PARENT
) -> PersonRecord:
    """Inside the caller's transaction: the one person called ``name``, or a new one.

    Refuses a name that more than one person has, so that the caller's whole action
    (opening a case with its author) is rolled back and nothing is saved.
    """
    key = name_key(name)
    if not key:
        raise ValidationError("Please give the person's name.", field="name")
    # A pupil is never the author of a post: a parent who shares a child's name is matched
    # among the adults, or added.
    adults = () if kind is PersonKind.PUPIL else (PersonRecord.kind != PersonKind.PUPIL.value,)
    matches = list(
        session.scalars(
            select(PersonRecord)
            .where(PersonRecord.name_key == key, *adults, *visible_people(ctx))
            .limit(2)
        ).all()
    )
    if ctx.may(Permission.SAFEGUARDING):
        matches += [
            r
            for r in PersonService._sealed_people(session)
            if r.name_key == key and (kind is PersonKind.PUPIL or r.kind != PersonKind.PUPIL.value)
        ]
    if len(matches) > 1:
        raise ValidationError(
            f"More than one person is called {name.strip()}; link the right one "
            "from the case screen instead."
        )
    if matches:
        return matches[0]
    return insert_person(session, check_person_draft(PersonDraft(name=name, kind=kind)), ctx.now())
