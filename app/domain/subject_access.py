"""Subject access requests (UK GDPR Article 15) as the ICO explains them.

A request is answered within one calendar month of receipt: from the day it arrives to the
same date next month, or the last day of next month when there is no such date, moved to
the next working day when that falls on a weekend or bank holiday. A complex request may be
extended by up to two further months, telling the person why within the first month.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.domain.errors import ValidationError
from app.domain.retention import SarCase, SarEntry, SarLetter

ICO_CONTACT = (
    "Information Commissioner's Office",
    "Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF",
    "Helpline: 0303 123 1113",
    "Online: ico.org.uk/make-a-complaint",
)

THIRD_PARTY_GROUND = (
    "Information about other people (Data Protection Act 2018, Schedule 2, Part 3, paragraph 16)"
)
NOT_REVIEWED = "it shows or may show other people and has not yet been redacted for you"
NOT_A_PICTURE = "it may show other people and cannot be redacted in the casebook"


def add_months(day: date, months: int) -> date:
    """The same date ``months`` later, or the last day of that month when it has no such
    date (31 January + 1 month is 28 or 29 February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _easter(year: int) -> date:
    """Easter Sunday (the Anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    return date(year, month, (h + ell - 7 * m + 114) % 31 + 1)


def _first_monday(year: int, month: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    day = date(year, month, calendar.monthrange(year, month)[1])
    return day - timedelta(days=day.weekday())


def bank_holidays(year: int) -> frozenset[date]:
    """The usual bank holidays in England and Wales (with substitute days); one-off
    holidays proclaimed for an occasion are not known here."""
    days: set[date] = set()

    def substitute(day: date) -> None:
        while day.weekday() >= 5 or day in days:
            day += timedelta(days=1)
        days.add(day)

    substitute(date(year, 1, 1))
    easter = _easter(year)
    days |= {easter - timedelta(days=2), easter + timedelta(days=1)}
    days |= {_first_monday(year, 5), _last_monday(year, 5), _last_monday(year, 8)}
    substitute(date(year, 12, 25))
    substitute(date(year, 12, 26))
    return frozenset(days)


def next_working_day(day: date) -> date:
    """``day``, or the next day that is not a weekend or bank holiday."""
    while day.weekday() >= 5 or day in bank_holidays(day.year):
        day += timedelta(days=1)
    return day


def response_due(received_on: date, months: int = 1) -> date:
    """When the response is due: ``months`` calendar months from receipt, ICO's way."""
    return next_working_day(add_months(received_on, months))


MAX_EXTENSION_MONTHS = 2


@dataclass(frozen=True)
class SubjectAccessRequest:
    """One request as recorded: who, when, identity, due date, extension, response."""

    id: int
    person_id: int | None
    requester_name: str
    received_on: date
    identity_checked_on: date | None
    identity_note: str
    due_on: date
    extended_to: date | None
    extension_reason: str
    responded_on: date | None
    recorded_by: str

    @property
    def deadline(self) -> date:
        """The date the response is due now (after any extension)."""
        return self.extended_to or self.due_on

    @property
    def identity_checked(self) -> bool:
        return self.identity_checked_on is not None

    @property
    def open(self) -> bool:
        return self.responded_on is None

    def overdue(self, today: date) -> bool:
        """True when it is still unanswered after its deadline."""
        return self.open and today > self.deadline


def check_extension(request: SubjectAccessRequest, months: int, reason: str, today: date) -> date:
    """The new deadline for an extension, or a refusal in one sentence."""
    if not request.open:
        raise ValidationError("This request has already been answered; it cannot be extended.")
    if request.extended_to is not None:
        raise ValidationError(
            f"This request was already extended to {request.extended_to:%d/%m/%Y}."
        )
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ValidationError(
            f"A request can be extended by one or two months, not {months}.", field="months"
        )
    if not reason.strip():
        raise ValidationError("Please give the reason for extending the time.", field="reason")
    if today > request.due_on:
        raise ValidationError(
            "The time can only be extended within the first month, telling the person why; "
            f"it ended on {request.due_on:%d/%m/%Y}."
        )
    start = max(request.received_on, request.identity_checked_on or request.received_on)
    return response_due(start, 1 + months)


@dataclass(frozen=True)
class SarItem:
    """One exhibit or letter in the response: included (with its file) or withheld (why)."""

    reference: str
    label: str  # "Exhibit 2", "Letter of 03/12/2026 to another person"
    added_on: str
    sha256: str
    file_name: str = ""  # in the zip; empty when withheld
    withheld_because: str = ""  # the reason in words, when withheld

    @property
    def included(self) -> bool:
        return bool(self.file_name)


@dataclass(frozen=True)
class Withholding:
    """How many items were withheld on one ground."""

    ground: str
    count: int
    detail: str


@dataclass(frozen=True)
class SubjectAccessResponse:
    """Everything the response tells the person, with Article 15's supplementary facts."""

    school: str
    school_contact: tuple[str, ...]
    person_name: str
    person_details: tuple[str, ...]
    received_on: str
    identity: str  # how and when the identity was checked, or that it was not recorded
    due_on: str
    extension: str  # "" or "extended to …: reason"
    generated_on: str
    cases: tuple[SarCase, ...]
    letters: tuple[SarLetter, ...]
    entries: tuple[SarEntry, ...]
    items: tuple[SarItem, ...]  # exhibits and letters on the cases, included or withheld
    purposes: tuple[str, ...]
    categories: tuple[str, ...]
    recipients: tuple[str, ...]
    retention: tuple[str, ...]
    sources: tuple[str, ...]
    withheld: tuple[Withholding, ...] = field(default_factory=tuple)
    redacted_passages: int = 0  # passages where other people's details were replaced

    @property
    def withheld_count(self) -> int:
        return sum(w.count for w in self.withheld)
