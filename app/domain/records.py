"""Plain records (DTOs) that services return and views and PDFs render."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime

from app.domain.categories import Category
from app.domain.people import (
    CaseRole,
    PersonKind,
    Restriction,
    restrictions_of,
    salutation,
)
from app.domain.status import CaseStatus

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_SHORT = 500


@dataclass(frozen=True)
class CaseDraft:
    """What a person types to open a case or change its details."""

    title: str
    categories: frozenset[Category]
    summary: str = ""
    platform: str = ""
    post_url: str = ""
    account_handle: str = ""
    posted_at: datetime | None = None
    reported_on: date | None = None
    reported_by: str = ""
    follow_up_due: date | None = None
    post_place: str = ""  # the group or page the post was made in
    inaccurate_text: str = ""  # what the post gets wrong (inaccurate posts)
    correct_facts: str = ""  # the facts the correction letter states
    barring_conduct: str = ""  # what the person did at or towards the school (barring letters)


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list."""

    id: int
    reference: str
    title: str
    poster: str
    platform: str
    categories: frozenset[Category]
    status: CaseStatus
    follow_up_due: date | None
    last_activity_at: datetime
    overdue: bool


@dataclass(frozen=True)
class CaseFilter:
    """What the case list is narrowed to; empty means everything."""

    text: str = ""
    statuses: frozenset[CaseStatus] = frozenset()
    category: Category | None = None
    overdue_only: bool = False
    open_only: bool = False
    # Only cases whose author is linked as the author of another case too (issue 21).
    repeat_authors_only: bool = False
    in_evidence: bool = False  # the words are looked for only in the exhibits' text


SORT_KEYS = (
    "reference",
    "title",
    "poster",
    "platform",
    "categories",
    "status",
    "follow_up_due",
    "last_activity_at",
)


@dataclass(frozen=True)
class CaseSort:
    """Which column orders the list, and which way."""

    key: str = "last_activity_at"
    descending: bool = True


@dataclass(frozen=True)
class CaseCounts:
    """Totals shown above the case list."""

    shown: int
    total: int
    open: int
    overdue: int
    shown_more: bool = False  # more than ``shown`` match: counted only so far ("1,000+")


@dataclass(frozen=True)
class Person:
    """A parent, carer, pupil, visitor or member of staff."""

    id: int
    name: str
    kind: PersonKind
    address_lines: tuple[str, ...] = ()
    postcode: str = ""
    email: str = ""
    phone: str = ""
    relationship: str = ""
    title: str = ""
    forenames: str = ""
    surname: str = ""
    # From the school's MIS (issue 21): pupils' preferred name, year and class, and a
    # contact's parental responsibility, priority and restriction flags.
    preferred_name: str = ""
    year_group: str = ""
    reg_group: str = ""
    mis_id: str = ""
    parental_responsibility: bool | None = None  # None: not known
    contact_priority: int | None = None
    court_order: bool = False
    contact_restriction: bool = False

    @property
    def salutation(self) -> str:
        """'Dear Mrs Whitfield' (without the comma)."""
        return salutation(self.title, self.surname, self.name)

    @property
    def restrictions(self) -> tuple[Restriction, ...]:
        """Flags that make a letter to this person need confirming."""
        return restrictions_of(
            self.parental_responsibility, self.court_order, self.contact_restriction
        )


@dataclass(frozen=True)
class PersonDraft:
    """What a person types to add or change someone's details."""

    name: str
    kind: PersonKind = PersonKind.PARENT
    address_lines: tuple[str, ...] = ()
    postcode: str = ""
    email: str = ""
    phone: str = ""
    relationship: str = ""
    title: str = ""
    forenames: str = ""
    surname: str = ""
    preferred_name: str = ""
    year_group: str = ""
    reg_group: str = ""
    mis_id: str = ""
    parental_responsibility: bool | None = None
    contact_priority: int | None = None
    court_order: bool = False
    contact_restriction: bool = False


@dataclass(frozen=True)
class CasePerson:
    """A person's part in one case."""

    person: Person
    role: CaseRole


@dataclass(frozen=True)
class Event:
    """One entry of a case's chronology."""

    id: int
    at: datetime
    actor: str
    kind: str
    summary: str


@dataclass(frozen=True)
class CaseDetail:
    """Everything the case screen shows."""

    id: int
    reference: str
    title: str
    summary: str
    platform: str
    post_url: str
    account_handle: str
    posted_at: datetime | None
    reported_on: date | None
    reported_by: str
    categories: frozenset[Category]
    status: CaseStatus
    follow_up_due: date | None
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    version: int
    overdue: bool
    code_version: str
    people: tuple[CasePerson, ...] = field(default_factory=tuple)
    events: tuple[Event, ...] = field(default_factory=tuple)
    post_place: str = ""
    inaccurate_text: str = ""
    correct_facts: str = ""
    barring_conduct: str = ""

    @property
    def poster(self) -> str:
        """Name of the first author linked to the case, or the handle."""
        for link in self.people:
            if link.role == CaseRole.AUTHOR:
                return link.person.name
        return self.account_handle


def draft_of(person: Person) -> PersonDraft:
    """A person's details as a draft, to compare or to change."""
    return PersonDraft(**{f.name: getattr(person, f.name) for f in fields(PersonDraft)})
