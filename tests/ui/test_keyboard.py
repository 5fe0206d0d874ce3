"""Keyboard first: Tab leaves text boxes and tables, Alt+letters are unique, focus is visible."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QMenu,
    QTabBar,
    QToolBar,
    QToolButton,
    QWidget,
    QWizard,
)

from app.services.casebook import Services
from app.ui.dialogs.report_wizard import ReportWizard
from app.ui.dialogs.school_profile import SchoolProfileDialog
from app.ui.main_window import MainWindow
from app.ui.views.case_detail import TAB_NAMES
from tests.ui.screen_probe import every_window

_MNEMONIC = re.compile(r"&([^&\s])")


def activate(qtbot, widget: QWidget) -> None:  # type: ignore[no-untyped-def]
    """Keys go where a person's would: to the focus of the active window."""
    window = widget.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=20_000)
    widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=20_000)


def mnemonic(text: str) -> str:
    found = _MNEMONIC.search(text.replace("&&", ""))
    return found.group(1).upper() if found else ""


def widget_text(widget: QWidget) -> str:
    if isinstance(widget, QGroupBox):
        return widget.title()
    if isinstance(widget, QAbstractButton | QLabel):
        return widget.text()
    return ""


def mnemonics_in_view(window: QWidget) -> list[tuple[str, str]]:
    """(letter, text) of every Alt+letter that works in the window as it is now."""
    found: list[tuple[str, str]] = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or isinstance(widget.parentWidget(), QToolBar):
            continue
        text = widget_text(widget)
        if isinstance(widget, QLabel) and widget.buddy() is None:
            continue  # a label without a field has no Alt+letter
        if mnemonic(text):
            found.append((mnemonic(text), text))
        if isinstance(widget, QTabBar):
            for index in range(widget.count()):
                if mnemonic(widget.tabText(index)):
                    found.append((mnemonic(widget.tabText(index)), widget.tabText(index)))
    if hasattr(window, "menuBar") and window.menuBar().isVisible():
        for action in window.menuBar().actions():
            found.append((mnemonic(action.text()), action.text()))
    return found


def assert_unique(found: list[tuple[str, str]], where: str) -> None:
    counts = Counter(letter for letter, _text in found)
    twice = {
        letter: [text for l2, text in found if l2 == letter]
        for letter, n in counts.items()
        if n > 1
    }
    assert not twice, f"{where}: Alt+letter used twice: {twice}"


def needs_mnemonic(widget: QWidget, window: QWidget) -> bool:
    """Whether ``widget`` is a control a person reaches with Alt+letter: a push button, a
    tool button with words, a check box or a radio button (not Enter's and Escape's)."""
    if not isinstance(widget, QAbstractButton) or not widget.isVisibleTo(window):
        return False
    if not any(c.isalpha() for c in widget.text()):
        return False  # "+", "−", "100%": their own keys (+, -, 1) do it
    if isinstance(widget, QToolButton) and (
        widget.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
        and not widget.icon().isNull()
    ):
        return False
    box = widget.parentWidget()
    if isinstance(box, QToolBar):
        return False  # the toolbar's actions are the menus' (each with its letter there)
    if widget.shortcut() == QKeySequence(Qt.Key.Key_Escape):
        return False  # Escape, as a dialog's Cancel
    if isinstance(box, QDialogButtonBox) and box.standardButton(widget) in (
        QDialogButtonBox.StandardButton.Ok,
        QDialogButtonBox.StandardButton.Cancel,
        QDialogButtonBox.StandardButton.Close,
        QDialogButtonBox.StandardButton.Save,
    ):
        return False  # Enter and Escape
    # A wizard's Cancel is Escape.
    return not (
        isinstance(window, QWizard) and widget is window.button(QWizard.WizardButton.CancelButton)
    )


def buttons_without_mnemonic(window: QWidget) -> list[str]:
    """Buttons, tool buttons with words, check boxes and radio buttons with no Alt+letter."""
    return [
        f"{type(w).__name__} {w.text()!r}"
        for w in window.findChildren(QAbstractButton)
        if needs_mnemonic(w, window) and not mnemonic(w.text())
    ]


def menus_without_unique_letters(window: QWidget) -> list[str]:
    """Items of the window's menus (menu bar, button menus) without their own Alt+letter."""
    problems = []
    for menu in window.findChildren(QMenu):
        items = [a.text() for a in menu.actions() if not a.isSeparator() and a.isVisible()]
        problems += [
            f"{menu.title() or menu.objectName()}: {t!r}" for t in items if not mnemonic(t)
        ]
        counts = Counter(mnemonic(t) for t in items if mnemonic(t))
        problems += [
            f"{menu.title() or menu.objectName()}: Alt+{letter} twice"
            for letter, n in counts.items()
            if n > 1
        ]
    return problems


def dialog_classes() -> set[str]:
    """The names of the QDialog and QWizard subclasses defined in app/ui."""
    found = set()
    for path in (Path(__file__).resolve().parents[2] / "app" / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id in ("QDialog", "QWizard")
                for base in node.bases
            ):
                found.add(node.name)
    return found


# ----- Alt+letters ------------------------------------------------------------------------


@pytest.mark.window_reads_only
def test_every_menu_item_has_its_own_letter(window: MainWindow) -> None:
    bar = [action.text() for action in window.menuBar().actions()]
    assert all(mnemonic(t) for t in bar)
    assert_unique([(mnemonic(t), t) for t in bar], "menu bar")
    for menu in window.menuBar().findChildren(QMenu):
        items = [a.text() for a in menu.actions() if not a.isSeparator() and a.isVisible()]
        assert all(mnemonic(t) for t in items), f"{menu.title()}: {items}"
        assert_unique([(mnemonic(t), t) for t in items], menu.title())


@pytest.mark.window_reads_only
def test_no_letter_means_two_things_on_any_tab_of_the_main_window(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
) -> None:
    window.case_list.select_row(0)
    for name in TAB_NAMES:
        window.case_detail.show_tab(name)
        QApplication.processEvents()
        assert_unique(mnemonics_in_view(window), f"main window, {name} tab")
        assert not buttons_without_mnemonic(window), name
        if name == "evidence":
            # The viewer's tools and, while redacting, the redaction bar's buttons.
            window.case_detail.evidence_tab.redact_button.setChecked(True)
            QApplication.processEvents()
            assert_unique(mnemonics_in_view(window), "main window, redacting")
            assert not buttons_without_mnemonic(window), "redacting"
            window.case_detail.evidence_tab.redact_button.setChecked(False)
    assert not menus_without_unique_letters(window)
    # Each toolbar button is a menu item too, with its letter there.
    in_menus = {a for m in window.menuBar().findChildren(QMenu) for a in m.actions()}
    assert all(a in in_menus for a in window.toolbar.actions() if not a.isSeparator())
    # Administration and "Add to chronology" used to share Alt+A.
    letters = dict((text, letter) for letter, text in mnemonics_in_view(window))
    assert "Add to chrono&logy" in letters


def test_every_dialog_has_unique_letters_and_every_button_one(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    demo_services: Services,
) -> None:
    window.case_list.select_row(0)
    demo_services.users.create_first_user("head", "tide-marble-orchard-42")
    demo_services.users.sign_in("head", "tide-marble-orchard-42")
    checked = 0
    problems: dict[str, list[str]] = {}
    walked: set[str] = set()
    for name, make in every_window(demo_services, window):
        if name == "main_window":
            continue
        dialog = make()
        walked.add(type(dialog).__name__)
        qtbot.addWidget(dialog)
        dialog.show()
        QApplication.processEvents()
        assert_unique(mnemonics_in_view(dialog), name)
        if buttons_without_mnemonic(dialog) or menus_without_unique_letters(dialog):
            problems[name] = buttons_without_mnemonic(dialog) + menus_without_unique_letters(dialog)
        dialog.close()
        checked += 1
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert checked >= 38
    # Every dialog class of the window is in the walk (and so in the screen-fit and
    # screen-reader walks, which share it).
    assert dialog_classes() - walked == set()


# ----- Tab moves on -----------------------------------------------------------------------


@pytest.mark.window_reads_only
def test_tab_leaves_the_wizard_description_instead_of_typing_a_tab(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
) -> None:
    wizard = ReportWizard(window.services, window)
    qtbot.addWidget(wizard)
    wizard.show()
    activate(qtbot, wizard.summary)
    qtbot.keyClicks(wizard.summary, "Photo of the class")
    qtbot.keyClick(wizard.summary, Qt.Key.Key_Tab)
    assert wizard.focusWidget() is wizard.post_url
    qtbot.keyClicks(wizard.focusWidget(), "https://example.org/post")
    assert wizard.summary.toPlainText() == "Photo of the class"
    assert wizard.post_url.text() == "https://example.org/post"
    # Ctrl+Tab still types a tab where one is wanted.
    activate(qtbot, wizard.summary)
    qtbot.keyClick(wizard.summary, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert "\t" in wizard.summary.toPlainText()
    wizard.summary.clear()
    wizard.post_url.clear()
    wizard.reject()


@pytest.mark.window_reads_only
@pytest.mark.parametrize("where", ["follow-up summary", "school address", "details summary"])
def test_tab_leaves_every_multi_line_box(qtbot, window: MainWindow, where: str) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    if where == "school address":
        dialog = SchoolProfileDialog(window.services, window.signals, window)
        qtbot.addWidget(dialog)
        dialog.show()
        box = dialog.edits["address"]
    elif where == "follow-up summary":
        window.case_detail.show_tab("follow-up")
        box = window.case_detail.workflow_tab.contact_summary
    else:
        window.case_detail.show_tab("details")
        box = window.case_detail.form.summary
    activate(qtbot, box)
    before = box.toPlainText()
    qtbot.keyClick(box, Qt.Key.Key_Tab)
    assert box.window().focusWidget() is not box
    assert box.toPlainText() == before


@pytest.mark.window_reads_only
@pytest.mark.parametrize("which", ["case list", "today"])
def test_tab_leaves_a_table_in_one_press(qtbot, window: MainWindow, which: str) -> None:  # type: ignore[no-untyped-def]
    window.today.set_collapsed(False)
    table = window.case_list.table if which == "case list" else window.today.table
    window.case_list.select_row(0)
    activate(qtbot, table)
    row = table.currentIndex().row()
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert window.focusWidget() is not table
    assert table.currentIndex().row() == row


@pytest.mark.window_reads_only
def test_the_focused_widget_has_a_visible_ring(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.case_list.search.setFocus()
    QApplication.processEvents()
    ring = window.findChild(QWidget, "focus_ring")
    assert ring is not None and ring.isVisible()
    assert ring.geometry().contains(window.case_list.search.geometry())
    window.case_list.table.setFocus()
    QApplication.processEvents()
    ring = window.findChild(QWidget, "focus_ring")
    assert ring is not None and ring.geometry().contains(window.case_list.table.geometry())


def _wait_for_ring(qtbot, window: QWidget, widget: QWidget) -> None:  # type: ignore[no-untyped-def]
    def around() -> bool:
        ring = window.findChild(QWidget, "focus_ring")
        return (
            ring is not None
            and ring.isVisible()
            and ring.parentWidget() is widget.parentWidget()
            and ring.geometry() == widget.geometry().adjusted(-2, -2, 2, 2)
        )

    qtbot.waitUntil(around, timeout=2000)


def _ring_thickness(window: QWidget, widget: QWidget) -> int:
    """How many pixels of blue lie across the left edge of ``widget``, from outside in."""
    image = window.grab().toImage()
    middle = widget.mapTo(window, widget.rect().center())
    left = widget.mapTo(window, widget.rect().topLeft()).x()
    count = 0
    for x in range(left - 4, left + 4):
        colour = image.pixelColor(x, middle.y())
        if colour.blue() - colour.red() > 60:  # the ring's blue and the style's focus blue
            count += 1
    return count


@pytest.mark.window_reads_only
def test_the_focus_ring_is_as_bold_around_the_case_table_as_around_a_text_box(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
) -> None:
    activate(qtbot, window.case_list.search)
    _wait_for_ring(qtbot, window, window.case_list.search)
    around_search = _ring_thickness(window, window.case_list.search)
    activate(qtbot, window.case_list.table)
    _wait_for_ring(qtbot, window, window.case_list.table)
    around_table = _ring_thickness(window, window.case_list.table)
    assert around_search >= 3
    assert around_table == around_search


@pytest.mark.window_reads_only
def test_the_focus_ring_keeps_up_when_the_case_list_is_resized(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
) -> None:
    activate(qtbot, window.case_list.table)
    sizes = window.splitter.sizes()
    window.splitter.setSizes([sizes[0] - 80, sizes[1] + 80])
    _wait_for_ring(qtbot, window, window.case_list.table)
