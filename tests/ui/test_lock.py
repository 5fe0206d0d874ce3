"""The window locks when idle or at once, shows nothing while locked, and unlocks in place."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.services.casebook import Services
from app.ui.main_window import MainWindow
from tests.ui.conftest import wait_for_first_paint

PASSWORD = "tide-marble-orchard-42"


@pytest.fixture
def signed_in(demo_services: Services) -> Services:
    demo_services.users.create_first_user("head", PASSWORD)
    return demo_services


@pytest.fixture
def locking_window(qtbot, signed_in: Services) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(signed_in, idle_lock_ms=300)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    wait_for_first_paint(qtbot, win)  # Today fills after the list
    yield win
    if win.is_locked():
        win.unlock()
    win.case_detail.revert_details()
    win.close()
    win.deleteLater()


def _visible_text(window: MainWindow) -> str:
    return " ".join(
        label.text() for label in window.findChildren(QLabel) if label.isVisibleTo(window)
    )


def test_idle_window_locks_and_hides_every_case(qtbot, locking_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    win = locking_window
    win.case_list.select_row(2)
    reference = win.case_detail.case.reference
    qtbot.waitUntil(win.is_locked, timeout=20_000)
    assert win.windowTitle() == "Conduct Casebook — locked"
    assert not win.menuBar().isVisible()
    assert not win.splitter.isVisible()
    assert reference not in _visible_text(win)
    assert "locked" in _visible_text(win)


def test_lock_now_and_unlock_return_to_the_same_case(qtbot, locking_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    win = locking_window
    win.idle.timer.setInterval(60_000)
    win.idle.timer.start()
    win.case_list.select_row(3)
    chosen = win.case_detail.case.id
    win.case_detail.show_tab("chronology")
    qtbot.keyClick(
        win, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert win.is_locked()
    win.lock_screen.password.setText("not my password")
    win.lock_screen.unlock_button.click()
    assert win.is_locked()
    assert "not right" in win.lock_screen.message.text()
    win.lock_screen.password.setText(PASSWORD)
    win.lock_screen.unlock_button.click()
    assert not win.is_locked()
    assert win.splitter.isVisible()
    assert win.case_detail.case.id == chosen
    assert win.windowTitle().startswith("Conduct Casebook")
    assert "locked" not in win.windowTitle()
    actions = [e.action for e in win.services.audit.entries(limit=20)]
    assert "locked window" in actions
    assert "signed in" in actions


def test_a_key_pressed_after_the_first_paint_puts_the_lock_off(qtbot, signed_in: Services) -> None:  # type: ignore[no-untyped-def]
    # The window watches the keyboard and mouse from its first paint (not before: watching
    # every event of the application slowed the start); from then on a key counts.
    win = MainWindow(signed_in, idle_lock_ms=10_000)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    wait_for_first_paint(qtbot, win)
    win.idle.timer.start()
    # A coarse timer (Qt may fire it up to 5% of its interval late) reports its remaining
    # time coarsely: the test waits until time has visibly gone, not for a fixed while.
    qtbot.waitUntil(lambda: win.idle.timer.remainingTime() < 9_000, timeout=20_000)
    before = win.idle.timer.remainingTime()
    qtbot.keyClick(win.case_list.table, Qt.Key.Key_Down)
    assert win.idle.timer.remainingTime() > before + 500
    assert not win.is_locked()
    win.close()
