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
from app.services.demo import create_demo
from app.ui.main_window import MainWindow
from tests.answers import GENERATION


@pytest.fixture
def ui_services(tmp_path: Path) -> Iterator[Services]:
    services = open_casebook(tmp_path / "data", actor="Mrs Test")
    yield services
    services.close()


@pytest.fixture
def demo_services(ui_services: Services) -> Services:
    create_demo(ui_services)
    return ui_services


@pytest.fixture
def window(qtbot, demo_services: Services) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(demo_services, demo=True)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.after_first_paint.done)  # first case and Today, after the list
    yield win
    # Closing asks about unsaved edits; a test that left some must not block on that box,
    # so the window is closed here rather than by qtbot (which closes before this runs).
    win.case_detail.revert_details()
    win.close()
    win.deleteLater()


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
