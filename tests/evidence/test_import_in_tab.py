"""An import in the evidence tab ends with its exhibits listed, the newest on show, and
every picture's thumbnail shown; the list is not redrawn when nothing changed."""

from __future__ import annotations

from pathlib import Path

from app.services.casebook import Services
from app.ui.signals import AppSignals
from app.ui.views.evidence_tab import EvidenceTab

from .conftest import png_bytes


def test_an_import_ends_with_its_exhibits_listed_and_the_newest_on_show(
    qtbot, services: Services, case_id: int, tmp_path: Path
) -> None:
    paths = []
    for n, colour in enumerate(("white", "beige", "lavender", "skyblue", "pink")):
        path = tmp_path / f"shot {n + 1}.png"
        path.write_bytes(png_bytes(300, 700, colour))
        paths.append(path)
    tab = EvidenceTab(services, AppSignals())
    qtbot.addWidget(tab)
    tab.ask_details = tab.read_text = False
    tab.resize(1100, 700)
    tab.show()
    tab.set_case(case_id)
    assert tab.import_files(paths) is not None
    qtbot.waitUntil(lambda: tab._task is None, timeout=30_000)
    # The import counts as running until its exhibits are listed and the newest shown.
    assert tab.strip.count() == 5
    assert tab.current is not None and tab.current.original_name == "shot 5.png"
    assert "Exhibits 1, 2, 3, 4, 5 added." in tab.message.text()
    qtbot.waitUntil(lambda: tab.thumbnails_loaded() == 5, timeout=30_000)

    # Shown again by the case list after the change: nothing is redrawn or reselected.
    tab.strip.setCurrentRow(1)
    first_item = tab.strip.item(0)
    tab.set_case(case_id)
    assert tab.strip.item(0) is first_item
    assert tab.strip.currentRow() == 1
    assert tab.current is not None and tab.current.original_name == "shot 2.png"
    assert tab.thumbnails_loaded() == 5
    tab.wait_for_work()
