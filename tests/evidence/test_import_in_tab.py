"""An import in the evidence tab ends with its exhibits listed, the newest on show, and
every picture's thumbnail shown; the list is not redrawn when nothing changed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage

from app.services.casebook import Services
from app.ui.signals import AppSignals
from app.ui.views.evidence_tab import THUMB, EvidenceTab, ThumbnailJob
from tests.conftest import WAIT_MS

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
    qtbot.waitUntil(lambda: tab._task is None, timeout=WAIT_MS)
    # The import counts as running until its exhibits are listed and the newest shown.
    assert tab.strip.count() == 5
    assert tab.current is not None and tab.current.original_name == "shot 5.png"
    assert "Exhibits 1, 2, 3, 4, 5 added." in tab.message.text()
    qtbot.waitUntil(lambda: tab.thumbnails_loaded() == 5, timeout=WAIT_MS)

    # Shown again by the case list after the change: nothing is redrawn or reselected.
    tab.strip.setCurrentRow(1)
    first_item = tab.strip.item(0)
    tab.set_case(case_id)
    assert tab.strip.item(0) is first_item
    assert tab.strip.currentRow() == 1
    assert tab.current is not None and tab.current.original_name == "shot 2.png"
    assert tab.thumbnails_loaded() == 5
    tab.wait_for_work()


def test_thumbnails_arrive_framed_so_the_gui_thread_only_shows_them(
    qtbot, services: Services, case_id: int
) -> None:
    [added] = services.evidence.add_bytes(case_id, [("tall.png", png_bytes(300, 700, "pink"))])
    job = ThumbnailJob(services, [added.exhibit.id], generation=1)
    ready: list[QImage] = []
    job.signals.ready.connect(lambda _gen, _id, image: ready.append(image))
    job.run()  # as on a worker: decoded, scaled and framed there
    [image] = ready
    assert image.size() == THUMB
    # Scaled to the thumbnail's height and centred, inside a grey frame.
    row = [image.pixelColor(x, THUMB.height() // 2) for x in range(THUMB.width())]
    drawn = [x for x, colour in enumerate(row) if colour.alpha() == 255]
    assert 40 <= len(drawn) <= 70 and abs(drawn[0] + drawn[-1] - THUMB.width()) <= 2
    assert row[drawn[0]].name() == row[drawn[-1]].name() == "#9aa0a6"
    assert row[THUMB.width() // 2].name() == "#ffc0cb"
    assert QColor(image.pixelColor(0, 0)).alpha() == 0  # beside the picture: transparent
