"""The table of bank holidays the letters read is the ``holidays`` package's own answer."""

from __future__ import annotations

from datetime import date
from importlib.metadata import version

import pytest

from app.domain import bank_holidays_table, working_days
from app.domain.working_days import TABLE_YEARS, bank_holiday, package_bank_holidays


def test_the_table_was_made_from_the_installed_package() -> None:
    # Fails after the pinned version of holidays changes: run scripts/write_bank_holidays.py.
    assert version("holidays") == bank_holidays_table.HOLIDAYS_VERSION
    assert working_days._table() is bank_holidays_table.BANK_HOLIDAYS
    for year in TABLE_YEARS:
        made = {
            date(year, month, day): name
            for month, day, name in bank_holidays_table.BANK_HOLIDAYS[year]
        }
        assert made == package_bank_holidays(year), year


def test_years_beyond_the_table_come_from_the_package() -> None:
    year = TABLE_YEARS.stop + 3
    official = package_bank_holidays(year)
    assert len(official) >= 8
    for day, name in official.items():
        assert bank_holiday(day) == name


def test_another_installed_version_is_asked_instead_of_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bank_holidays_table, "HOLIDAYS_VERSION", "0.0-not-installed")
    working_days._table.cache_clear()
    working_days._bank_holidays.cache_clear()
    try:
        assert working_days._table() is None
        # The coronation's extra bank holiday, straight from the package.
        assert bank_holiday(date(2023, 5, 8)) == package_bank_holidays(2023)[date(2023, 5, 8)]
    finally:
        working_days._table.cache_clear()
        working_days._bank_holidays.cache_clear()
