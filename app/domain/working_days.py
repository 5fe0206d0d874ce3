"""Working days for reply-by dates: never a weekend, an England and Wales bank holiday, or
(when the school has entered them) a day the school is closed.

Bank holidays come from the maintained ``holidays`` package rather than a hand list, so a
new or moved bank holiday (a coronation, a jubilee) arrives with an update of the package.
Importing the package and working out a year took a twentieth of a letter printed from the
command line, so the years around now are read from a table made from the package
(app/domain/bank_holidays_table.py, written by scripts/write_bank_holidays.py), used only
while the very version it was made from is installed; otherwise, and for other years, the
package itself is asked, imported on first use.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from app.domain.dates import MONTHS
from app.domain.errors import ValidationError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_CLOSURE_LINE = re.compile(
    r"^(?:(?P<name>[^:]+):\s*)?(?P<start>\d{1,2}/\d{1,2}/\d{4})"
    r"(?:\s*(?:to|-|–)\s*(?P<end>\d{1,2}/\d{1,2}/\d{4}))?$"
)

CLOSURES_HINT = "one a line: Christmas holidays: 19/12/2026 to 03/01/2027"


_UK_CALENDAR = "holidays.countries.united_kingdom"


@cache
def _uk_calendar() -> Any:
    """The ``holidays`` package's United Kingdom calendar class, loaded on its own.

    The package's ``countries`` folder imports every country's calendar when any one of
    them is imported (about a tenth of a second, most of a letter's start on the command
    line). The United Kingdom's module needs none of the others, so it is found and run
    by itself; where it cannot be found so (a rearranged package), the package's own
    look-up is used.
    """
    import holidays

    module = sys.modules.get(_UK_CALENDAR)
    if module is None:
        folders = [os.path.join(folder, "countries") for folder in holidays.__path__]
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(_UK_CALENDAR, folders) if find is not None else None
            if spec is not None and spec.loader is not None:
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                break
    calendar = getattr(module, "UnitedKingdom", None)
    if calendar is None:
        return lambda **options: holidays.country_holidays("GB", **options)
    return calendar


# The years the table holds: a letter's date and reply-by date fall well inside them.
TABLE_YEARS = range(2020, 2046)


def package_bank_holidays(year: int) -> dict[date, str]:
    """England and Wales bank holidays of ``year`` from the ``holidays`` package itself."""
    # England and Wales share their bank holidays; Scotland and Northern Ireland differ.
    found = _uk_calendar()(subdiv="ENG", years=year)
    return {day: str(name) for day, name in found.items()}


@cache
def _table() -> dict[int, tuple[tuple[int, int, str], ...]] | None:
    """The table of bank holidays, if it was made from the installed ``holidays`` package.

    The installed version is read from the package's metadata folder beside it, found
    without importing the package; where it cannot be found (another version, a layout
    without the metadata), the package is asked instead, as before the table.
    """
    from app.domain import bank_holidays_table as table

    spec = importlib.util.find_spec("holidays")
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in folders:
        parent = os.path.dirname(folder)
        if os.path.isdir(os.path.join(parent, f"holidays-{table.HOLIDAYS_VERSION}.dist-info")):
            return table.BANK_HOLIDAYS
    return None


@cache
def _bank_holidays(year: int) -> dict[date, str]:
    table = _table() if year in TABLE_YEARS else None
    if table is not None:
        return {date(year, month, day): name for month, day, name in table[year]}
    return package_bank_holidays(year)


def bank_holiday(day: date) -> str | None:
    """The name of the England and Wales bank holiday on ``day``, if it is one."""
    return _bank_holidays(day.year).get(day)


@dataclass(frozen=True)
class Closure:
    """A period the school is closed (holidays entered in the school profile)."""

    name: str
    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def _day(text: str, line: str) -> date:
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise ValidationError(
            f"'{text}' in the school closures line '{line}' is not a date; "
            "write it like 19/12/2026.",
            field="closures",
        ) from None


def parse_closures(text: str) -> tuple[Closure, ...]:
    """The school's closure periods, one a line ('Christmas holidays: 19/12/2026 to
    03/01/2027', or a single day); a line that does not read so is refused, naming it."""
    found: list[Closure] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        match = _CLOSURE_LINE.match(line)
        if match is None:
            raise ValidationError(
                f"The school closures line '{line}' is not understood; write each period "
                "like 'Christmas holidays: 19/12/2026 to 03/01/2027'.",
                field="closures",
            )
        start = _day(match["start"], line)
        end = _day(match["end"], line) if match["end"] else start
        if end < start:
            raise ValidationError(
                f"The school closure '{line}' ends before it starts.", field="closures"
            )
        if (end - start).days > 120:
            raise ValidationError(
                f"The school closure '{line}' is longer than four months; check the dates.",
                field="closures",
            )
        found.append(Closure((match["name"] or "School closed").strip(), start, end))
    return tuple(sorted(found, key=lambda c: c.start))


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days count as working days for the school."""

    closures: tuple[Closure, ...] = ()

    def why_not_working(self, day: date) -> str | None:
        """Why ``day`` is not a working day ('Saturday', 'Christmas Day', ...), or None."""
        if day.weekday() >= 5:
            return WEEKDAYS[day.weekday()]
        holiday = bank_holiday(day)
        if holiday is not None:
            return f"{holiday} (bank holiday)"
        for closure in self.closures:
            if closure.covers(day):
                return f"{closure.name} (school closed)"
        return None

    def is_working_day(self, day: date) -> bool:
        """True on a weekday that is neither a bank holiday nor a school closure."""
        return self.why_not_working(day) is None

    def on_or_after(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day."""
        # Closures are at most four months each; a year ahead always finds a working day.
        for _ in range(400):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValidationError("No working day was found within a year; check the closures.")

    def reply_by(self, start: date, days: int) -> date:
        """The reply-by date ``days`` calendar days after ``start``, moved on to a working day."""
        return self.on_or_after(start + timedelta(days=days))


def calendar_from(closures_text: str) -> WorkingCalendar:
    """The school's working calendar from the closures it entered (empty: none)."""
    return WorkingCalendar(parse_closures(closures_text))


def format_weekday_date(day: date) -> str:
    """'Monday 4 January 2027', as a letter states a date to act by."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"
