"""Fixtures for window tests: a real casebook in a temporary folder and a real window."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QCheckBox, QDialog, QWidget

from app.domain.records import CaseFilter
from app.services.casebook import Services, open_casebook
from app.services.demo import create_demo, is_empty
from app.ui.main_window import MainWindow
from tests.answers import GENERATION
from tests.demo_casebook import DemoCasebooks


@pytest.fixture(scope="session")
def demo_casebooks(tmp_path_factory: pytest.TempPathFactory) -> DemoCasebooks:
    """This worker's demonstration casebook, made once and copied for each window test."""
    return DemoCasebooks(tmp_path_factory.mktemp("demo-casebook"))


@pytest.fixture
def ui_services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """A new casebook; for a test that asks for ``demo_services``, already filled with the
    demonstration cases (a copy of the worker's own, see tests/demo_casebook.py)."""
    if "demo_services" in request.fixturenames or (
        "window" in request.fixturenames and not _reads_only(request)
    ):
        casebooks: DemoCasebooks = request.getfixturevalue("demo_casebooks")
        services = casebooks.copy_to(tmp_path / "data", actor="Mrs Test")
    else:
        services = open_casebook(tmp_path / "data", actor="Mrs Test")
    yield services
    services.close()


@pytest.fixture
def demo_services(ui_services: Services) -> Services:
    if is_empty(ui_services):
        create_demo(ui_services)
    return ui_services


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "window_reads_only: the test changes nothing in the casebook, so it may share its "
        "module's window (see the window fixture)",
    )


def _reads_only(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("window_reads_only") is not None


@pytest.fixture
def window(request: pytest.FixtureRequest, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """The main window on a copy of the demonstration casebook, shown and painted.

    A test marked ``window_reads_only`` (it changes nothing in the casebook, and what it
    changes on the screen a new window would show otherwise: filters, selection, tab, typed
    text, size) shares one window with the other such tests of its module: building and
    painting a window is most of such a test's time. After each, the window is put back
    as it was when new and compared with what it showed then (the list, row by row, the
    case, the filters and tab); if anything differs, the next test gets a new window.
    """
    if _reads_only(request):
        assert not {"demo_services", "ui_services"} & set(request.fixturenames), (
            "a shared window's test reads its casebook through window.services"
        )
        shared: SharedWindows = request.getfixturevalue("shared_windows")
        win = shared.window(qtbot)
        yield win
        shared.put_back()
        return
    win = _new_window(qtbot, request.getfixturevalue("demo_services"))
    yield win
    _close(win)


def _new_window(qtbot, services: Services) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(services, demo=True)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    wait_for_first_paint(qtbot, win)
    return win


def _close(win: MainWindow) -> None:
    # Closing asks about unsaved edits; a test that left some must not block on that box,
    # so the window is closed here rather than by qtbot (which closes before this runs).
    win.case_detail.revert_details()
    win.close()
    win.deleteLater()


def _as_shown(win: MainWindow) -> dict[str, object]:
    """What a person sees of the window's state: every cell of the list in order, the
    filters, sort and selection, the case open (and its version), the tab, the layout; and
    how many cases the casebook holds."""
    lst = win.case_list
    model = lst.model
    header = lst.table.horizontalHeader()
    case = win.case_detail.case
    return {
        "rows": [
            [model.index(r, c).data() for c in range(model.columnCount())]
            for r in range(model.rowCount())
        ],
        "search": lst.search.text(),
        "status": lst.status_filter.currentIndex(),
        "category": lst.category_filter.currentIndex(),
        "checked": [b.isChecked() for b in _list_boxes(win)],
        "sort": (header.sortIndicatorSection(), header.sortIndicatorOrder()),
        "current": lst.selected_case_id(),
        "selected": lst.selected_case_ids(),
        "case": None if case is None else (case.id, case.version),
        "tab": win.case_detail.tabs.currentIndex(),
        "unsaved": win.case_detail.is_dirty(),
        "today_folded": win.today.is_collapsed(),
        "size": (win.width(), win.height()),
        "split": win.splitter.sizes(),
        "cases": win.services.cases.count_cases(CaseFilter()),
    }


def _list_boxes(win: MainWindow) -> tuple[QCheckBox, ...]:
    lst = win.case_list
    return (lst.overdue_only, lst.repeat_authors_only, lst.in_evidence)


class SharedWindows:
    """One module's shared window (see ``window``), made when first asked for."""

    def __init__(self, casebooks: DemoCasebooks, folder: Path) -> None:
        self.casebooks = casebooks
        self.folder = folder
        self.made = 0
        self._services: Services | None = None
        self._window: MainWindow | None = None
        self._when_new: dict[str, Any] = {}
        self.differences: list[str] = []  # what put_back could not put back, last time

    def window(self, qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
        if self._window is None:
            self.made += 1
            self._services = self.casebooks.copy_to(
                self.folder / f"data-{self.made}", actor="Mrs Test"
            )
            self._window = _new_window(qtbot, self._services)
            self._when_new = _as_shown(self._window)
        return self._window

    def put_back(self) -> bool:
        """The window as it was when new (True), or, failing that, none: the next test
        makes a new one."""
        win = self._window
        assert win is not None
        new = self._when_new
        win.case_detail.revert_details()
        lst = win.case_list
        for box, checked in zip(_list_boxes(win), new["checked"], strict=True):
            box.setChecked(checked)
        lst.status_filter.setCurrentIndex(new["status"])
        lst.category_filter.setCurrentIndex(new["category"])
        lst.search.setText(new["search"])
        lst.table.sortByColumn(*new["sort"])
        lst.apply_filter()
        lst.select_row(0)
        if not new["selected"]:
            # A new window opens its first case without selecting its row.
            lst.table.selectionModel().clearSelection()
        win.case_detail.tabs.setCurrentIndex(new["tab"])
        win.today.set_collapsed(new["today_folded"])
        win.resize(*new["size"])
        win.splitter.setSizes(new["split"])
        lst.table.setFocus()
        QApplication.processEvents()
        shown = _as_shown(win)
        self.differences = [
            key if key == "rows" else f"{key}: {shown[key]!r}, new {new[key]!r}"
            for key in new
            if shown[key] != new[key]
        ]
        if not self.differences:
            return True
        self.close()
        return False

    def close(self) -> None:
        if self._window is not None:
            _close(self._window)
            self._window = None
        if self._services is not None:
            self._services.close()
            self._services = None


@pytest.fixture(scope="module")
def shared_windows(
    demo_casebooks: DemoCasebooks, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedWindows]:
    shared = SharedWindows(demo_casebooks, tmp_path_factory.mktemp("shared-window"))
    yield shared
    shared.close()


def wait_for_first_paint(qtbot, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Until the window has shown its first case and Today (after the list), however long a
    loaded machine takes: a fixed 5 seconds failed at a load of 20. pytest-timeout (120 s)
    still turns a window that never paints into a failure."""
    qtbot.waitUntil(lambda: win.after_first_paint.done, timeout=110_000)


def answer_next_dialog(
    action: Callable[[QWidget], None], timeout_ms: int = 50, patience_ms: int = 30_000
) -> None:
    """Drive the next modal dialog (message box, input dialog) the way a person would.

    Looks every ``timeout_ms`` for up to ``patience_ms``: on a loaded machine a dialog may
    open seconds later (behind Argon2 or a worker), and a dialog nobody answers hangs.
    """
    tries = max(1, patience_ms // max(1, timeout_ms))
    generation = GENERATION[0]

    def attempt(remaining: int = tries) -> None:
        if generation != GENERATION[0]:
            return  # the test that asked has finished: never answer a later test's dialog
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            if remaining:
                QTimer.singleShot(timeout_ms, lambda: attempt(remaining - 1))
            return
        action(dialog)

    QTimer.singleShot(timeout_ms, attempt)


def accept_dialog(dialog: QWidget) -> None:
    assert isinstance(dialog, QDialog)
    dialog.accept()


def screenshot(qtbot, widget: QWidget, name: str, settle_ms: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Paint ``widget`` as the screen would. With CASEBOOK_SCREENSHOTS set to a folder, wait
    ``settle_ms`` for drawing done in the background (QtPdf's pages) and save the picture
    there as ``name``.png to look at; the normal run neither waits nor writes."""
    folder = os.environ.get("CASEBOOK_SCREENSHOTS")
    if not folder:
        widget.grab()
        return
    qtbot.wait(settle_ms)
    Path(folder).mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(Path(folder) / f"{name}.png"))
