"""Anonymised figures for the governors' report (rendered by app.pdf.governors).

A count of one or two cases in a month or on a platform can tell a governor which family it
was. So every count below the school's threshold (3 unless changed) is printed as "fewer
than 3", small platforms are merged into "Other platforms", and where one hidden count could
be worked out from a total and the other counts, the next smallest is hidden too.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise

from app.domain.errors import ValidationError
from app.domain.policy import describe_hours

DEFAULT_THRESHOLD = 3
MIN_THRESHOLD = 2
MAX_THRESHOLD = 20
THRESHOLD_SETTING = "report_threshold"
OTHER_PLATFORMS = "Other platforms"


def check_threshold(value: int) -> int:
    """The threshold, or a refusal naming the values allowed."""
    if not MIN_THRESHOLD <= value <= MAX_THRESHOLD:
        raise ValidationError(
            f"The smallest count shown must be between {MIN_THRESHOLD} and {MAX_THRESHOLD}, "
            f"not {value}.",
            field="threshold",
        )
    return value


@dataclass(frozen=True)
class Figure:
    """One count as the report prints it; ``count`` is None when it is hidden."""

    label: str
    count: int | None
    threshold: int

    @property
    def text(self) -> str:
        """'5', '0' or 'fewer than 3'."""
        return str(self.count) if self.count is not None else f"fewer than {self.threshold}"

    @property
    def hidden(self) -> bool:
        return self.count is None


def hide_small(
    items: Sequence[tuple[str, int]], threshold: int, *, adds_up: bool = True
) -> tuple[Figure, ...]:
    """Counts from 1 to ``threshold - 1`` hidden; if they add up to a printed total and
    only one is hidden, the next smallest is hidden too so it cannot be worked out."""
    hidden = {i for i, (_, n) in enumerate(items) if 0 < n < threshold}
    if adds_up and len(hidden) == 1:
        rest = sorted((n, i) for i, (_, n) in enumerate(items) if n > 0 and i not in hidden)
        if rest:
            hidden.add(rest[0][1])
    return tuple(
        Figure(label, None if i in hidden else n, threshold) for i, (label, n) in enumerate(items)
    )


def merge_small(
    items: Sequence[tuple[str, int]], threshold: int, other: str
) -> list[tuple[str, int]]:
    """Categories under ``threshold`` merged into one called ``other`` (kept last)."""
    big = [(label, n) for label, n in items if n >= threshold]
    small = sum(n for _, n in items if n < threshold)
    if small:
        big.append((other, small))
    return big


@dataclass(frozen=True)
class Removal:
    """One post that came down: when it was posted, reported and removed, and where."""

    platform: str
    posted_at: datetime | None
    reported_at: datetime
    removed_at: datetime

    @property
    def hours_from_report(self) -> float:
        return max(0.0, (self.removed_at - self.reported_at).total_seconds() / 3600)

    @property
    def hours_from_posting(self) -> float | None:
        if self.posted_at is None:
            return None
        return max(0.0, (self.removed_at - self.posted_at).total_seconds() / 3600)


@dataclass(frozen=True)
class RemovalTimes:
    """Time to removal for one group (a platform, a term, or all): hidden when too few."""

    label: str
    removed: Figure
    median_from_report: float | None  # None when hidden or none removed
    median_from_posting: float | None  # None also when no removed post has a posting time

    @property
    def from_report_text(self) -> str:
        return _hours_text(self.median_from_report, self.removed)

    @property
    def from_posting_text(self) -> str:
        return _hours_text(self.median_from_posting, self.removed, posting=True)


def _hours_text(hours: float | None, removed: Figure, posting: bool = False) -> str:
    if removed.count == 0:
        return "No post removed"
    if removed.hidden:
        return "Not shown (too few)"
    if hours is None:
        return "Posting times not recorded" if posting else "No post removed"
    return describe_hours(hours)


def removal_times(label: str, removals: Sequence[Removal], threshold: int) -> RemovalTimes:
    """The median times for ``removals``; withheld when fewer than ``threshold``."""
    count = len(removals)
    figure = Figure(label, None if 0 < count < threshold else count, threshold)
    if figure.hidden or not removals:
        return RemovalTimes(label, figure, None, None)
    posted = [h for r in removals if (h := r.hours_from_posting) is not None]
    return RemovalTimes(
        label,
        figure,
        statistics.median(r.hours_from_report for r in removals),
        statistics.median(posted) if len(posted) >= threshold else None,
    )


# ----- school terms ------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A school term: its name and first and last days."""

    name: str
    start: date
    end: date

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


_TERM_LINE = re.compile(
    r"^\s*(?P<name>[^:]+?)\s*:\s*(?P<start>\S+)\s*(?:to|-|–)\s*(?P<end>\S+)\s*$", re.IGNORECASE
)


def _term_day(text: str, line: str) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError(
        f"'{text}' in the term dates line '{line}' is not a date; write it like 01/09/2026.",
        field="term_dates",
    )


def parse_terms(text: str) -> tuple[Term, ...]:
    """Term dates as the school profile keeps them, one a line: 'Autumn 2026: 01/09/2026 to
    18/12/2026'. A line that does not read so is refused, naming it."""
    terms = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        found = _TERM_LINE.match(line)
        if found is None:
            raise ValidationError(
                f"The term dates line '{line}' is not understood; write each term like "
                "'Autumn 2026: 01/09/2026 to 18/12/2026'.",
                field="term_dates",
            )
        start = _term_day(found["start"], line)
        end = _term_day(found["end"], line)
        if end < start:
            raise ValidationError(
                f"The term '{found['name']}' ends before it starts.", field="term_dates"
            )
        terms.append(Term(found["name"], start, end))
    terms.sort(key=lambda t: t.start)
    for before, after in pairwise(terms):
        if after.start <= before.end:
            raise ValidationError(
                f"The terms '{before.name}' and '{after.name}' overlap.", field="term_dates"
            )
    return tuple(terms)


def default_terms(start: date, end: date) -> tuple[Term, ...]:
    """The usual English terms (autumn from September, spring from January, summer from
    April) covering ``start`` to ``end``, for a school that has not entered its own dates."""
    terms = []
    for year in range(start.year - 1, end.year + 1):
        terms += [
            Term(f"Autumn {year}", date(year, 9, 1), date(year, 12, 31)),
            Term(f"Spring {year + 1}", date(year + 1, 1, 1), date(year + 1, 3, 31)),
            Term(f"Summer {year + 1}", date(year + 1, 4, 1), date(year + 1, 8, 31)),
        ]
    return tuple(t for t in terms if t.end >= start and t.start <= end)


def term_of(day: date, terms: Sequence[Term]) -> str:
    """The name of the term holding ``day``, or 'Holidays'."""
    for term in terms:
        if term.holds(day):
            return term.name
    return "Holidays"


# ----- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GovernorsReport:
    """Anonymised figures for a period: no names, no references, no small counts."""

    start: date
    end: date
    threshold: int
    total: Figure
    open: Figure
    closed: Figure
    by_standard: tuple[Figure, ...]
    by_platform: tuple[Figure, ...]
    by_month: tuple[Figure, ...]
    by_outcome: tuple[Figure, ...]
    removals: RemovalTimes
    removal_by_platform: tuple[RemovalTimes, ...]
    removal_by_term: tuple[RemovalTimes, ...]
    terms_from_profile: bool
    case_count: int  # exact, for the person making the report; the PDF prints ``total``
    # People linked as the author of more than one case opened in the period (issue 21).
    repeat_authors: Figure | None = None

    @property
    def median_text(self) -> str:
        """The median time from report to removal, in words."""
        return self.removals.from_report_text

    @property
    def threshold_note(self) -> str:
        """What the report says about hidden counts."""
        n = self.threshold
        return (
            f"To keep families from being recognised, any count from 1 to {n - 1} is shown as "
            f"“fewer than {n}”, platforms with fewer than {n} cases are merged into "
            f"“{OTHER_PLATFORMS}”, and where a hidden count could be worked out from the "
            "others the next smallest is hidden too. Times to removal are shown only for "
            f"groups of {n} or more removed posts."
        )
