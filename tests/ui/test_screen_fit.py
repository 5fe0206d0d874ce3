"""Every window fits the screen it is on: a 1366×768 laptop, and 1920×1080 at 125% and 150%."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QDialog, QPushButton, QVBoxLayout

from app.services.casebook import Services
from app.ui.main_window import MainWindow
from app.ui.models.case_table import COLUMNS, FIRST_COLUMNS, overdue_date_text
from app.ui.widgets import (
    FRAME_BOTTOM,
    FRAME_SIDE,
    FRAME_TOP,
    fit_to_screen,
    fits,
    fitted_geometry,
    should_maximise,
)
from tests.demo_casebook import DemoCasebooks
from tests.ui.conftest import wait_for_first_paint
from tests.ui.screen_probe import prepare

ROOT = Path(__file__).resolve().parents[2]
LAPTOP = QRect(0, 0, 1366, 728)  # 1366×768 less a 40-pixel taskbar
LAPTOP_LEFT_TASKBAR = QRect(62, 0, 1304, 768)


# ----- the fitting rule, on any available area -------------------------------------------


def test_a_big_window_shrinks_to_the_area_left_by_the_taskbar() -> None:
    placed = fitted_geometry(QSize(1000, 1139), QSize(300, 200), QRect(0, 0, 1280, 680))
    assert placed.height() == 680 - FRAME_TOP - FRAME_BOTTOM
    assert placed.top() >= FRAME_TOP and placed.bottom() <= 680 - FRAME_BOTTOM
    assert placed.width() == 1000


def test_the_window_is_placed_beside_a_left_hand_taskbar() -> None:
    placed = fitted_geometry(QSize(1400, 800), QSize(300, 200), LAPTOP_LEFT_TASKBAR)
    assert placed.left() >= LAPTOP_LEFT_TASKBAR.left() + FRAME_SIDE
    assert placed.right() <= LAPTOP_LEFT_TASKBAR.right() - FRAME_SIDE
    assert fits(placed.size(), LAPTOP_LEFT_TASKBAR)


def test_a_window_never_shrinks_below_what_its_layout_needs() -> None:
    placed = fitted_geometry(QSize(900, 900), QSize(700, 640), QRect(0, 0, 800, 600))
    assert placed.size() == QSize(784, 640)  # as wide as fits, and no shorter than needed
    assert not fits(placed.size(), QRect(0, 0, 800, 600))


@pytest.mark.parametrize(
    ("width", "height", "maximise"),
    [(1366, 728, True), (1280, 680, True), (1440, 860, True), (1920, 1040, False)],
)
def test_small_screens_start_maximised(width: int, height: int, maximise: bool) -> None:
    assert should_maximise(QRect(0, 0, width, height)) is maximise


def test_a_dialog_taller_than_the_screen_is_fitted_with_its_buttons_on_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = QDialog()
    qtbot.addWidget(dialog)
    button = QPushButton("Issue letter", dialog)
    QVBoxLayout(dialog).addWidget(button)
    dialog.resize(1000, 1139)
    dialog.move(200, 150)
    fit_to_screen(dialog, QRect(0, 0, 1280, 680))
    assert fits(dialog.size(), QRect(0, 0, 1280, 680))
    assert dialog.geometry().bottom() <= 680 - FRAME_BOTTOM
    dialog.resize(400, 300)
    dialog.move(1200, 600)  # dragged half off the screen
    fit_to_screen(dialog, QRect(0, 0, 1280, 680))
    assert dialog.size() == QSize(400, 300)
    assert QRect(0, 0, 1280, 680).contains(dialog.geometry())


# ----- the real windows, on simulated screens --------------------------------------------

SCREENS = {
    # name: (width, height of the available area in device pixels, scale)
    "1366x768 at 100%": (1366, 728, 1.0),
    "1920x1080 at 150%": (1920, 1032, 1.5),
    "1920x1080 at 125%": (1920, 1032, 1.25),
}


def probe(tmp_path: Path, name: str, casebooks: DemoCasebooks) -> dict[str, list[object]]:
    width, height, scale = SCREENS[name]
    # The probe opens a copy of this worker's demonstration casebook, with its users.
    data = tmp_path / "data"
    services = casebooks.copy_to(data, actor="Mrs Test")
    try:
        prepare(services)
    finally:
        services.close()
    config = tmp_path / "screen.json"
    config.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": "office",
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": height,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ]
            }
        )
    )
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    env["QT_SCALE_FACTOR"] = str(scale)
    env["HOME"] = str(tmp_path)  # the file dialogs' memory and Qt's own settings stay here
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.screen_probe", str(tmp_path / "png"), f"--data={data}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, list[object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _check(result: dict[str, list[object]], width: int, height: int) -> None:
    screen_width, screen_height, _ = result.pop("_screen")
    viewer_width, _height, _ = result.pop("_evidence_viewer")
    # The viewer had about 245 px at 1366 (a quarter of the case screen): now the strip and
    # the details panel are narrow and it takes the rest.
    assert int(str(viewer_width)) >= 300
    assert (screen_width, screen_height) == (width, height)
    too_big = {name: size for name, size in result.items() if not size[2]}
    assert not too_big, f"larger than the {width}×{height} available: {too_big}"
    assert len(result) >= 40  # the main window and every dialog were opened
    # A first start on these screens is maximised: the whole screen, no more.
    # (A scaled screen rounds its logical size: a pixel either way is the same screen.)
    main_width, main_height, _ = result["main_window"]
    assert abs(int(str(main_width)) - width) <= 1 and abs(int(str(main_height)) - height) <= 1


def test_every_window_fits_a_1366_by_768_laptop(
    tmp_path: Path, demo_casebooks: DemoCasebooks
) -> None:
    _check(probe(tmp_path, "1366x768 at 100%", demo_casebooks), 1366, 728)


def test_every_window_fits_1920_by_1080_at_150_percent(
    tmp_path: Path, demo_casebooks: DemoCasebooks
) -> None:
    _check(probe(tmp_path, "1920x1080 at 150%", demo_casebooks), 1280, 688)


@pytest.mark.slow
def test_every_window_fits_1920_by_1080_at_125_percent(
    tmp_path: Path, demo_casebooks: DemoCasebooks
) -> None:
    _check(probe(tmp_path, "1920x1080 at 125%", demo_casebooks), 1536, 826)


# ----- the main window -------------------------------------------------------------------


@pytest.fixture
def first_start(qtbot, demo_services: Services) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(demo_services, demo=True)
    yield win
    win.case_detail.revert_details()
    win.close()
    win.deleteLater()


def test_first_start_on_a_large_screen_is_a_fitted_window_not_maximised(
    qtbot,  # type: ignore[no-untyped-def]
    first_start: MainWindow,
) -> None:
    first_start.show_on_screen(QRect(0, 0, 1920, 1040))
    qtbot.waitExposed(first_start)
    assert not first_start.isMaximized()
    assert first_start.size() == QSize(1280, 800)


def test_first_start_on_a_small_screen_is_maximised(qtbot, first_start: MainWindow) -> None:  # type: ignore[no-untyped-def]
    first_start.show_on_screen(LAPTOP)
    qtbot.waitExposed(first_start)
    assert first_start.isMaximized()


def test_the_case_list_shows_reference_title_status_and_follow_up_at_1366(
    qtbot,  # type: ignore[no-untyped-def]
    demo_services: Services,
) -> None:
    win = MainWindow(demo_services, demo=True)
    qtbot.addWidget(win)
    win.resize(LAPTOP.size())
    win.show()
    qtbot.waitExposed(win)
    table = win.case_list.table
    keys = [key for key, _label in COLUMNS]
    assert keys[:FIRST_COLUMNS] == ["reference", "title", "status", "follow_up_due"]
    last = FIRST_COLUMNS - 1
    right_edge = table.columnViewportPosition(last) + table.columnWidth(last)
    assert right_edge <= table.viewport().width()
    assert table.horizontalScrollBar().value() == 0
    # An overdue date is drawn in bold; all of it fits its column.
    bold = QFont(table.font())
    bold.setBold(True)
    needed = QFontMetrics(bold).horizontalAdvance(overdue_date_text(date(2026, 11, 30)))
    assert needed + 8 <= table.columnWidth(keys.index("follow_up_due"))
    win.case_detail.revert_details()
    win.close()


def test_today_folds_away_and_the_window_remembers(qtbot, demo_services: Services) -> None:  # type: ignore[no-untyped-def]
    win = MainWindow(demo_services, demo=True)
    qtbot.addWidget(win)
    win.resize(1280, 900)
    win.show()
    qtbot.waitExposed(win)
    wait_for_first_paint(qtbot, win)  # Today fills after the list
    win.today.set_collapsed(False)
    unfolded = win.today_dock.height()
    win.today.fold_button.click()
    qtbot.waitUntil(lambda: win.today_dock.height() < unfolded)
    assert not win.today.table.isVisible()
    assert "overdue" in win.today.heading.text()  # the summary line stays
    win.close()
    again = MainWindow(demo_services, demo=True)
    qtbot.addWidget(again)
    assert again.today.is_collapsed()
    again.today.fold_button.click()
    assert not again.today.is_collapsed()
    again.close()
