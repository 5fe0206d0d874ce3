"""The audit trail's CSV opens in a spreadsheet as text: no cell runs as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from app.services.casebook import Services


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_could_be_a_formula_is_neutralised(services: Services, start: str) -> None:
    value = f'{start}HYPERLINK("http://example.invalid","click")'
    services.audit.record(value, "sign-in failed", value, value)
    entries = services.audit.entries(action="sign-in failed")
    rows = list(csv.reader(io.StringIO(services.audit.export_csv(entries).decode("utf-8-sig"))))
    user, action, target, detail = rows[1][2:6]
    assert action == "sign-in failed"
    for cell in (user, target, detail):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert cell.endswith(value[1:])  # shown, as text


def test_ordinary_cells_are_left_as_they_are(services: Services) -> None:
    services.audit.record("Mrs Office", "view case", "SM-2026-0001", "")
    rows = list(
        csv.reader(
            io.StringIO(services.audit.export_csv(services.audit.entries()).decode("utf-8-sig"))
        )
    )
    assert rows[1][2:5] == ["Mrs Office", "view case", "SM-2026-0001"]
