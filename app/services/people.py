"""Parents, carers, visitors and staff: add, change, find."""

from __future__ import annotations

from sqlalchemy import select

from app.db.models import PersonRecord
from app.domain.access import Permission
from app.domain.errors import NotFoundError, ValidationError
from app.domain.people import PersonKind, name_key
from app.domain.records import Person, PersonDraft
from app.domain.validation import check_person_draft
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
    )


class PersonService:
    """People who appear in cases."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def add_person(self, draft: PersonDraft) -> Person:
        """Record a new person after checking what was typed."""
        self.ctx.require(Permission.EDIT_CASES)
        clean = check_person_draft(draft)
        now = self.ctx.now()
        with self.ctx.sessions.begin() as session:
            record = PersonRecord(
                name=clean.name,
                name_key=name_key(clean.name),
                kind=clean.kind.value,
                address="\n".join(clean.address_lines),
                postcode=clean.postcode,
                email=clean.email,
                phone=clean.phone,
                relationship_to_pupils=clean.relationship,
                created_at=now,
                updated_at=now,
            )
            session.add(record)
            session.flush()
            return person_from_record(record)

    def update_person(self, person_id: int, draft: PersonDraft) -> Person:
        """Save changed details of a person."""
        self.ctx.require(Permission.EDIT_CASES)
        clean = check_person_draft(draft)
        with self.ctx.sessions.begin() as session:
            record = session.get(PersonRecord, person_id)
            if record is None:
                raise NotFoundError("That person no longer exists.")
            record.name = clean.name
            record.name_key = name_key(clean.name)
            record.kind = clean.kind.value
            record.address = "\n".join(clean.address_lines)
            record.postcode = clean.postcode
            record.email = clean.email
            record.phone = clean.phone
            record.relationship_to_pupils = clean.relationship
            record.updated_at = self.ctx.now()
            session.flush()
            # The case list shows and searches the author's name from its own columns.
            refresh_cases_of_person(session, person_id)
            return person_from_record(record)

    def get_person(self, person_id: int) -> Person:
        """One person by id."""
        self.ctx.require(Permission.VIEW_CASES)
        with self.ctx.sessions() as session:
            record = session.get(PersonRecord, person_id)
            if record is None:
                raise NotFoundError("That person no longer exists.")
            return person_from_record(record)

    def search_people(self, text: str, limit: int = 50) -> list[Person]:
        """People whose name contains ``text`` (case-insensitive), by name."""
        self.ctx.require(Permission.VIEW_CASES)
        key = name_key(text)
        query = select(PersonRecord).order_by(PersonRecord.name_key).limit(limit)
        if key:
            query = query.where(PersonRecord.name_key.contains(key, autoescape=True))
        with self.ctx.sessions() as session:
            return [person_from_record(r) for r in session.scalars(query).all()]

    def match_or_create(self, name: str, kind: PersonKind = PersonKind.PARENT) -> Person:
        """The one person with exactly this name, or a new person; refuse if ambiguous."""
        self.ctx.require(Permission.EDIT_CASES)
        key = name_key(name)
        if not key:
            raise ValidationError("Please give the person's name.", field="name")
        with self.ctx.sessions() as session:
            matches = session.scalars(
                select(PersonRecord).where(PersonRecord.name_key == key).limit(2)
            ).all()
            if len(matches) > 1:
                raise ValidationError(
                    f"More than one person is called {name.strip()}; link the right one "
                    "from the case screen instead."
                )
            if matches:
                return person_from_record(matches[0])
        return self.add_person(PersonDraft(name=name, kind=kind))
