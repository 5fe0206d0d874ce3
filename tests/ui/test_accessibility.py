"""Screen readers: every interactive widget has a name, and the letter preview has words."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAccessible, QAccessibleInterface
from PySide6.QtWidgets import QApplication, QWidget

from app.services.casebook import Services
from app.ui.main_window import MainWindow
from app.ui.views.case_detail import TAB_NAMES
from tests.ui.screen_probe import every_window

Role = QAccessible.Role
INTERACTIVE = {
    Role.PushButton,
    Role.CheckBox,
    Role.RadioButton,
    Role.ComboBox,
    Role.EditableText,
    Role.SpinBox,
    Role.Table,
    Role.List,
    Role.Tree,
    Role.PageTabList,
    Role.Slider,
    Role.ButtonMenu,
    Role.ButtonDropDown,
    Role.Link,
}


def unnamed(interface: QAccessibleInterface | None, path: str = "") -> list[str]:
    """Every visible interactive element under ``interface`` that a screen reader cannot name."""
    if interface is None or not interface.isValid() or interface.state().invisible:
        return []
    found: list[str] = []
    role = interface.role()
    here = f"{path}/{role.name}"
    if role in INTERACTIVE and not interface.text(QAccessible.Text.Name).strip():
        owner = interface.object()
        parent = owner.parent() if owner is not None else None
        found.append(f"{here} ({type(owner).__name__} in {type(parent).__name__})")
    for index in range(interface.childCount()):
        found += unnamed(interface.child(index), here)
    return found


def tree_of(widget: QWidget) -> QAccessibleInterface:
    interface = QAccessible.queryAccessibleInterface(widget)
    assert interface is not None and interface.isValid()
    return interface


@pytest.mark.window_reads_only
def test_every_control_of_the_main_window_has_a_name(window: MainWindow) -> None:
    window.today.set_collapsed(False)
    window.case_list.select_row(0)
    walked = 0
    for name in TAB_NAMES:
        window.case_detail.show_tab(name)
        QApplication.processEvents()
        assert unnamed(tree_of(window)) == [], name
        walked += 1
    assert walked == len(TAB_NAMES)
    # The walk reaches the tables that used to be silent.
    names = {
        window.today.table.accessibleName(),
        window.case_detail.people_table.accessibleName(),
        window.case_detail.events_table.accessibleName(),
    }
    assert "" not in names


def test_every_dialog_has_a_name_for_every_control(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    demo_services: Services,
) -> None:
    window.case_list.select_row(0)
    demo_services.users.create_first_user("head", "tide-marble-orchard-42")
    demo_services.users.sign_in("head", "tide-marble-orchard-42")
    problems: dict[str, list[str]] = {}
    for name, make in every_window(demo_services, window):
        if name == "main_window":
            continue
        dialog = make()
        qtbot.addWidget(dialog)
        dialog.show()
        QApplication.processEvents()
        missing = unnamed(tree_of(dialog))
        if missing:
            problems[name] = missing
        dialog.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


@pytest.mark.window_reads_only
def test_the_letter_preview_reads_out_the_letter(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from app.ui.dialogs.issue_letter import IssueLetterDialog

    window.case_list.select_row(0)
    case = window.case_detail.case
    assert case is not None
    dialog = IssueLetterDialog(window.services, case.id, window)
    qtbot.addWidget(dialog)
    dialog.show()
    view = tree_of(dialog.preview.view)
    assert view.text(QAccessible.Text.Name) == "Preview of the letter"
    words = view.text(QAccessible.Text.Description)
    assert case.reference in words
    assert "Dear" in words
    dialog.reject()
