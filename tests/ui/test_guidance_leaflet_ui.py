"""The leaflet window: A4 pages or the A5 booklet, and how to print the booklet, said before
and after saving it (real widgets, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.services.casebook import Services, open_casebook
from app.services.demo import DEMO_SCHOOL_PROFILE
from app.ui.dialogs.guidance_leaflet import GuidanceLeafletDialog
from tests.ui.conftest import screenshot

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=lambda: NOW)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def test_the_booklet_is_chosen_in_the_window_which_says_how_to_print_it(
    qtbot, services: Services, tmp_path: Path
) -> None:
    dialog = GuidanceLeafletDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.a4.isChecked() and "A4 paper" in dialog.how_to_print.text()
    dialog.save_to(tmp_path / "leaflet.pdf")
    first = PdfReader(tmp_path / "leaflet.pdf").pages[0]
    assert round(float(first.mediabox.width)) == 595  # A4 upright
    assert "set out above" not in dialog.outcome.text()

    dialog.booklet.click()
    said = dialog.how_to_print.text()
    assert "double-sided" in said and "flip on short edge" in said and "fold" in said
    dialog.save_to(tmp_path / "booklet.pdf")
    sheet = PdfReader(tmp_path / "booklet.pdf").pages[0]
    assert round(float(sheet.mediabox.width)) == 842  # an A4 sheet on its side, two A5 pages
    assert dialog.saved == tmp_path / "booklet.pdf"
    assert f"Saved to {tmp_path / 'booklet.pdf'}." in dialog.outcome.text()
    assert "Print it as set out above." in dialog.outcome.text()
    screenshot(qtbot, dialog, "guidance_leaflet", 50)
