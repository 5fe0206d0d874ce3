"""UK dates: stored in UTC, shown in Europe/London, across the clock changes."""

from __future__ import annotations

import locale
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from app.domain.dates import (
    as_utc,
    format_date_time,
    format_long_date,
    format_short_date,
    london_today,
    parse_iso_datetime,
    parse_uk_or_iso_date,
    to_london,
)
from app.domain.errors import ValidationError


@pytest.mark.parametrize(
    ("day", "long", "short"),
    [
        (date(2026, 11, 24), "24 November 2026", "24/11/2026"),
        (date(2026, 3, 1), "1 March 2026", "01/03/2026"),
        (date(2027, 1, 9), "9 January 2027", "09/01/2027"),
    ],
)
def test_letter_and_table_dates(day: date, long: str, short: str) -> None:
    assert format_long_date(day) == long
    assert format_short_date(day) == short


def test_no_date_shows_as_blank() -> None:
    assert format_short_date(None) == ""
    assert format_date_time(None) == ""


@pytest.fixture
def foreign_time_locale() -> Iterator[str]:
    """Switch LC_TIME to a non-English locale (as Qt does from the environment)."""
    before = locale.setlocale(locale.LC_TIME)
    for name in ("de_DE.UTF-8", "fr_FR.UTF-8", "cy_GB.UTF-8", "pl_PL.UTF-8"):
        try:
            locale.setlocale(locale.LC_TIME, name)
        except locale.Error:
            continue
        try:
            yield name
        finally:
            locale.setlocale(locale.LC_TIME, before)
        return
    pytest.skip("no non-English locale is installed")


def test_long_dates_stay_english_whatever_the_locale(foreign_time_locale: str) -> None:
    assert format_long_date(date(2026, 11, 24)) == "24 November 2026"


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        # Clocks go forward at 01:00 GMT on Sunday 29 March 2026.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "29/03/2026 00:30"),
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29/03/2026 00:59"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29/03/2026 02:00"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "29/03/2026 02:30"),
        # Clocks go back at 01:00 GMT (02:00 BST) on Sunday 25 October 2026.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "25/10/2026 01:30"),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "25/10/2026 01:00"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "25/10/2026 01:30"),
        # Summer and winter
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "01/07/2026 13:00"),
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), "01/12/2026 12:00"),
        # A late evening in summer is already the next day in London.
        (datetime(2026, 6, 10, 23, 30, tzinfo=UTC), "11/06/2026 00:30"),
    ],
)
def test_times_show_in_london_time(utc: datetime, shown: str) -> None:
    assert format_date_time(utc) == shown


def test_naive_stored_times_are_read_as_utc() -> None:
    assert format_date_time(datetime(2026, 7, 1, 12, 0)) == "01/07/2026 13:00"
    assert to_london(datetime(2026, 7, 1, 12, 0)).utcoffset().total_seconds() == 3600


def test_london_today_follows_bst() -> None:
    assert london_today(datetime(2026, 6, 10, 23, 30, tzinfo=UTC)) == date(2026, 6, 11)
    assert london_today(datetime(2026, 12, 10, 23, 30, tzinfo=UTC)) == date(2026, 12, 10)


def test_typed_times_are_london_wall_clock_times() -> None:
    summer = parse_iso_datetime("2026-07-01T14:05", "posted_at")
    winter = parse_iso_datetime("2026-11-24T14:05", "posted_at")
    assert summer == datetime(2026, 7, 1, 13, 5, tzinfo=UTC)
    assert winter == datetime(2026, 11, 24, 14, 5, tzinfo=UTC)
    assert format_date_time(summer) == "01/07/2026 14:05"


def test_typed_times_with_an_offset_keep_it() -> None:
    moment = parse_iso_datetime("2026-07-01T14:05+00:00", "posted_at")
    assert moment == datetime(2026, 7, 1, 14, 5, tzinfo=UTC)
    assert moment.tzinfo == UTC


def test_the_repeated_hour_in_october_takes_the_first_one() -> None:
    # 01:30 happens twice on 25 October 2026; without more detail the BST one is meant.
    assert parse_iso_datetime("2026-10-25T01:30", "x") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_date_alone_means_midnight_in_london() -> None:
    assert parse_iso_datetime("2026-07-01", "x") == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)


def test_as_utc_converts_aware_times() -> None:
    assert as_utc(datetime(2026, 7, 1, 14, 0)) == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["yesterday", "24/11/2026 14:05", "2026-13-01T10:00", ""])
def test_bad_date_time_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_iso_datetime(typed, "posted_at")
    assert "2026-11-24T14:05" in caught.value.message
    assert caught.value.field == "posted_at"


def test_uk_and_iso_dates_are_both_accepted() -> None:
    assert parse_uk_or_iso_date("24/11/2026", "due") == date(2026, 11, 24)
    assert parse_uk_or_iso_date(" 2026-11-24 ", "due") == date(2026, 11, 24)
    with pytest.raises(ValidationError, match="24/11/2026"):
        parse_uk_or_iso_date("11/24/2026", "due")


def test_every_month_is_spelt_out_in_english() -> None:
    names = [format_long_date(date(2026, month, 1)).split()[1] for month in range(1, 13)]
    assert names == [
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
    ]
