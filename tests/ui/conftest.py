"""Fixtures for window tests: a real casebook in a temporary folder and a real window."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

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
    if "demo_services" in request.fixturenames:
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


@pytest.fixture
def window(qtbot, demo_services: Services) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(demo_services, demo=True)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    wait_for_first_paint(qtbot, win)
    yield win
    # Closing asks about unsaved edits; a test that left some must not block on that box,
    # so the window is closed here rather than by qtbot (which closes before this runs).
    win.case_detail.revert_details()
    win.close()
    win.deleteLater()


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
