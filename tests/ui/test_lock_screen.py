"""While locked, the window shows nothing of the casebook and takes no input but the password."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from app.services.casebook import Services
from app.ui.dialogs.sign_in import RecoveryDialog
from app.ui.main_window import MainWindow
from tests.ui.conftest import answer_next_dialog, wait_for_first_paint

PASSWORD = "tide-marble-orchard-42"


@pytest.fixture
def signed_in(demo_services: Services) -> Services:
    demo_services.users.create_first_user("head", PASSWORD)
    return demo_services


@pytest.fixture
def win(qtbot, signed_in: Services) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    window = MainWindow(signed_in, idle_lock_ms=60_000)
    window.resize(1280, 900)
    window.show()
    qtbot.waitExposed(window)
    wait_for_first_paint(qtbot, window)  # Today fills after the list
    window.today.set_collapsed(False)
    yield window
    if window.is_locked():
        window.unlock()
    window.case_detail.revert_details()
    window.close()
    window.deleteLater()


def every_text_shown() -> str:
    """All text any visible window of the application shows: labels, boxes, tables, titles."""
    texts: list[str] = []
    for top in QApplication.topLevelWidgets():
        if not top.isVisible():
            continue
        texts.append(top.windowTitle())
        for widget in [top, *top.findChildren(QWidget)]:
            if not widget.isVisible():
                continue
            if isinstance(widget, QDockWidget):
                texts.append(widget.windowTitle())
            if isinstance(widget, QLabel | QAbstractButton):
                texts.append(widget.text())
            if isinstance(widget, QLineEdit):
                texts.append(widget.text())
            if isinstance(widget, QPlainTextEdit):
                texts.append(widget.toPlainText())
            if isinstance(widget, QAbstractItemView) and widget.model() is not None:
                model = widget.model()
                for row in range(min(model.rowCount(), 50)):
                    for column in range(model.columnCount()):
                        texts.append(str(model.index(row, column).data() or ""))
    return "\n".join(texts)


def secrets(window: MainWindow) -> list[str]:
    """References and titles of every case that the Today list and the case list know."""
    found = [item.reference for item in window.today.items]
    found += [item.title for item in window.today.items]
    case = window.case_detail.case
    assert case is not None
    return [*found, case.reference, case.title]


@pytest.mark.parametrize("how", ["lock now", "idle"])
def test_locked_window_shows_no_reference_or_title_anywhere(
    qtbot, win: MainWindow, how: str
) -> None:  # type: ignore[no-untyped-def]
    win.case_list.select_row(1)
    hidden = secrets(win)
    assert win.today.items, "the demonstration casebook has actions due"
    assert hidden[0] in every_text_shown()  # the test can see them before the lock
    if how == "idle":
        win.idle.timer.setInterval(200)
        win.idle.timer.start()
        qtbot.waitUntil(win.is_locked, timeout=20_000)
    else:
        win.lock_action.trigger()
    shown = every_text_shown()
    for secret in hidden:
        assert secret not in shown
    assert not win.today_dock.isVisible()


def test_nothing_behind_the_lock_takes_a_click_or_a_key(qtbot, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    win.case_list.select_row(0)
    shown = win.case_detail.case.id
    win.lock_action.trigger()
    # Double-clicking where the Today list was, arrows in the case list, menu shortcuts.
    table = win.today.table
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, 10))
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Return)
    qtbot.keyClick(win.case_list.table, Qt.Key.Key_Down)
    qtbot.keyClick(win, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(win, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.activeModalWidget() is None  # no New case dialog
    assert all(not action.isEnabled() for action in (win.next_action, win.new_case_action))
    assert win.case_detail.case.id == shown
    assert win.is_locked()
    # The password box still takes typing, and the right password unlocks.
    qtbot.keyClicks(win.lock_screen.password, PASSWORD)
    qtbot.keyClick(win.lock_screen.password, Qt.Key.Key_Return)
    assert not win.is_locked()
    assert win.today_dock.isVisible()
    assert win.next_action.isEnabled() and win.new_case_action.isEnabled()
    assert win.case_detail.case.id == shown
    qtbot.keyClick(win.case_list.table, Qt.Key.Key_Down)
    assert win.case_detail.case.id != shown  # input reaches the casebook again


def test_the_recovery_key_can_still_be_used_from_the_lock_screen(qtbot, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    win.lock_action.trigger()
    seen: list[QWidget] = []

    def close_it(dialog: QWidget) -> None:
        seen.append(dialog)
        dialog.close()

    answer_next_dialog(close_it)
    qtbot.mouseClick(win.lock_screen.forgotten_button, Qt.MouseButton.LeftButton)
    assert seen and isinstance(seen[0], RecoveryDialog)
    assert win.is_locked()
