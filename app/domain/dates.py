"""UK dates and times: stored in UTC, shown in Europe/London."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.domain.errors import ValidationError

LONDON = ZoneInfo("Europe/London")

# Spelt out rather than taken from strftime('%B'), which follows the process locale (Qt sets
# it from the desktop), so a letter never prints "24 Tachwedd 2026".
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def utc_now() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Treat a naive time as Europe/London wall-clock time and convert it to UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment.astimezone(UTC)


def to_london(moment: datetime) -> datetime:
    """Convert a stored UTC time (naive means UTC) to Europe/London."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LONDON)


def london_today(now: datetime | None = None) -> date:
    """Today's date in the school's time zone."""
    return to_london(now or utc_now()).date()


def london_midnight(day: date) -> datetime:
    """The moment (in UTC) the day begins in London, for "from" and "to" date filters."""
    return datetime(day.year, day.month, day.day, tzinfo=LONDON).astimezone(UTC)


def format_long_date(day: date) -> str:
    """'24 November 2026', as letters print it."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def format_short_date(day: date | None) -> str:
    """'24/11/2026', as tables show it; empty for no date."""
    return day.strftime("%d/%m/%Y") if day else ""


def format_date_time(moment: datetime | None) -> str:
    """'24/11/2026 14:05' in London time; empty for no time."""
    if moment is None:
        return ""
    return to_london(moment).strftime("%d/%m/%Y %H:%M")


def format_date_time_seconds(moment: datetime | None) -> str:
    """'24/11/2026 14:05:09' in London time, for the audit trail; empty for no time."""
    if moment is None:
        return ""
    return to_london(moment).strftime("%d/%m/%Y %H:%M:%S")


def parse_iso_datetime(value: str, field: str) -> datetime:
    """Parse an ISO 8601 date or date-time typed by a person; naive means London time."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"'{value}' is not a date and time; write it like 2026-11-24T14:05.", field=field
        ) from None
    return as_utc(moment)


def parse_uk_or_iso_date(value: str, field: str) -> date:
    """Parse '24/11/2026' or '2026-11-24'."""
    text = value.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"'{value}' is not a date; write it like 24/11/2026.", field=field)
