"""How long the school keeps each kind of case, and when a closed case is due for review.

Nothing is ever deleted automatically: a case whose time has come appears on the
"due for review" list, and the head teacher decides whether to delete it, keep it for
longer (legal hold) or leave it for now. Safeguarding records about a child are kept
until the child is 25, as the usual guidance for schools advises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from app.domain.errors import CasebookError, ValidationError

# Kept in their own module: a letter hides third parties without loading the retention rules.
from app.domain.third_parties import ThirdPartyRedactor as ThirdPartyRedactor

SETTING_KEY = "retention_rules"


class DeletionRefused(CasebookError):
    """A case that may not be deleted yet (still open, or on legal hold)."""


@dataclass(frozen=True)
class RulePeriod:
    """One retention period as the settings show it: its label and the values allowed."""

    name: str
    label: str
    minimum: int
    maximum: int
    unit: str  # "years" after closing, or the child's age in years


# The limits every editor of the rules shares (the settings dialog sets its spin boxes from
# them). Safeguarding records about a child are never reviewed before the child is an adult.
RULE_PERIODS: tuple[RulePeriod, ...] = (
    RulePeriod("review_after_years", "review period for closed cases", 1, 100, "years"),
    RulePeriod(
        "safeguarding_until_age", "age until which safeguarding cases are kept", 18, 100, "age"
    ),
    RulePeriod(
        "safeguarding_without_dob_years",
        "review period for safeguarding cases without a date of birth",
        1,
        100,
        "years",
    ),
)


@dataclass(frozen=True)
class RetentionRules:
    """The school's retention periods, in whole years."""

    # Closed cases that do not concern safeguarding: reviewed this long after closing.
    review_after_years: int = 6
    # Safeguarding cases: kept until the child concerned reaches this age.
    safeguarding_until_age: int = 25
    # When the child's date of birth is not recorded: this long after closing instead.
    safeguarding_without_dob_years: int = 25

    def to_json(self) -> str:
        """The rules as stored in the settings table."""
        return json.dumps({period.name: getattr(self, period.name) for period in RULE_PERIODS})

    @classmethod
    def from_json(cls, text: str | None) -> RetentionRules:
        """Rules from stored JSON; anything missing or unreadable falls back to the default."""
        default = cls()
        try:
            data: Any = json.loads(text) if text else {}
        except ValueError:
            return default
        if not isinstance(data, dict):
            return default
        values: dict[str, int] = {}
        for period in RULE_PERIODS:
            value = data.get(period.name)
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and period.minimum <= value <= period.maximum
            ):
                values[period.name] = value
            else:
                values[period.name] = int(getattr(default, period.name))
        return cls(**values)

    def checked(self) -> RetentionRules:
        """These rules, or ``ValidationError`` naming the period that makes no sense."""
        for period in RULE_PERIODS:
            value = getattr(self, period.name)
            if not period.minimum <= value <= period.maximum:
                raise ValidationError(
                    f"The {period.label} must be between {period.minimum} and "
                    f"{period.maximum} years, not {value}.",
                    period.name,
                )
        if self.safeguarding_without_dob_years < self.review_after_years:
            raise ValidationError(
                "Safeguarding cases without a date of birth must be kept at least as long as "
                f"other closed cases ({self.review_after_years} years).",
                "safeguarding_without_dob_years",
            )
        return self

    def changes_from(self, before: RetentionRules) -> str:
        """What differs from ``before``, in words for the audit trail; empty when nothing."""
        changes = [
            f"{period.label}: {getattr(before, period.name)} to {getattr(self, period.name)}"
            for period in RULE_PERIODS
            if getattr(before, period.name) != getattr(self, period.name)
        ]
        return "; ".join(changes)


class ReviewReason(StrEnum):
    """Why a closed case comes up for review."""

    CLOSED = "closed"
    SAFEGUARDING_DOB = "safeguarding_dob"
    SAFEGUARDING_NO_DOB = "safeguarding_no_dob"


def add_years(day: date, years: int) -> date:
    """``day`` moved on by whole years; 29 February becomes 28 February in other years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class ReviewDate:
    """When one closed case is due for review, and why."""

    due_on: date
    reason: ReviewReason
    text: str

    @property
    def dob_missing(self) -> bool:
        """True when a safeguarding case lacks the child's date of birth."""
        return self.reason is ReviewReason.SAFEGUARDING_NO_DOB


def review_date(
    rules: RetentionRules,
    *,
    closed_on: date,
    safeguarding: bool,
    child_date_of_birth: date | None,
) -> ReviewDate:
    """When a case closed on ``closed_on`` comes up for review under ``rules``."""
    if not safeguarding:
        years = rules.review_after_years
        return ReviewDate(
            add_years(closed_on, years),
            ReviewReason.CLOSED,
            f"Closed case: reviewed {years} years after closing",
        )
    if child_date_of_birth is not None:
        age = rules.safeguarding_until_age
        return ReviewDate(
            add_years(child_date_of_birth, age),
            ReviewReason.SAFEGUARDING_DOB,
            f"Safeguarding: kept until the child is {age}",
        )
    years = rules.safeguarding_without_dob_years
    return ReviewDate(
        add_years(closed_on, years),
        ReviewReason.SAFEGUARDING_NO_DOB,
        f"Safeguarding: child's date of birth missing, reviewed {years} years after closing",
    )


@dataclass(frozen=True)
class RetentionItem:
    """One closed case on the retention schedule."""

    case_id: int
    reference: str
    title: str
    closed_on: date
    review: ReviewDate
    legal_hold: str  # the reason for the hold, or "" when there is none

    @property
    def due_on(self) -> date:
        """The review date."""
        return self.review.due_on


@dataclass(frozen=True)
class LegalHold:
    """A case kept whatever its review date says (a claim, an inquiry, the police)."""

    reason: str
    set_at: datetime
    set_by: str


@dataclass(frozen=True)
class DeletionRecord:
    """All that remains of a deleted case."""

    reference: str
    deleted_at: datetime
    deleted_by: str
    reason: str


# ----- subject access --------------------------------------------------------------------


@dataclass(frozen=True)
class SarCase:
    """One case a person is linked to, as told to that person."""

    reference: str
    title: str
    roles: tuple[str, ...]
    status: str
    opened_on: str
    standards: tuple[str, ...]
    summary: str
    others_withheld: int


@dataclass(frozen=True)
class SarLetter:
    """A letter addressed to the person."""

    reference: str
    date: str
    label: str
    subject: str
    file_name: str


@dataclass(frozen=True)
class SarEntry:
    """A note or chronology entry that mentions the person."""

    reference: str
    when: str
    text: str


@dataclass(frozen=True)
class SarExhibit:
    """An evidence item on one of the person's cases (listed, not copied)."""

    reference: str
    label: str
    name: str
    added_on: str
    sha256: str
    redacted_copy: str  # file name of the redacted copy in the zip, or ""


@dataclass(frozen=True)
class SubjectAccessReport:
    """Everything the school holds about one person, third parties' details redacted."""

    school: str
    person_name: str
    person_details: tuple[str, ...]
    generated_on: str
    cases: tuple[SarCase, ...]
    letters: tuple[SarLetter, ...]
    entries: tuple[SarEntry, ...]
    exhibits: tuple[SarExhibit, ...]
