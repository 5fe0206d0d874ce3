"""The main window as a head teacher uses it: find, open, change and follow cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

from app.config import DataDirLock
from app.domain.categories import Category
from app.domain.errors import DataDirectoryInUseError
from app.domain.records import CaseFilter
from app.domain.status import CaseStatus
from app.services.casebook import Services
from app.ui.app import open_for_window
from app.ui.dialogs.new_case import NewCaseDialog
from app.ui.main_window import MainWindow
from app.ui.models.case_table import COLUMNS
from tests.ui.conftest import answer_next_dialog


def _column(name: str) -> int:
    return [key for key, _label in COLUMNS].index(name)


def _visible_texts(win: MainWindow, column: str) -> list[str]:
    model = win.case_list.model
    col = _column(column)
    return [model.index(r, col).data() for r in range(model.rowCount())]


@pytest.mark.window_reads_only
def test_list_shows_every_demo_case_with_counts(window: MainWindow) -> None:
    assert window.case_list.model.rowCount() == 13
    assert "Showing 13 of 13 cases" in window.case_list.counts_label.text()
    assert "overdue" in window.counts_label.text()
    posters = _visible_texts(window, "poster")
    assert "Zoë Łukasiewicz" in posters
    assert "Дмитрий Соколов" in posters


@pytest.mark.window_reads_only
def test_overdue_rows_are_marked(window: MainWindow) -> None:
    model = window.case_list.model
    due = _column("follow_up_due")
    marked = [
        model.index(r, due).data()
        for r in range(model.rowCount())
        if model.index(r, due).data(Qt.ItemDataRole.BackgroundRole) is not None
    ]
    assert marked, "overdue cases should stand out"
    assert all(text.endswith("(overdue)") for text in marked)


@pytest.mark.window_reads_only
def test_search_box_filters_as_you_type(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClicks(window.case_list.search, "sokolov")  # ASCII handle of a Cyrillic name
    qtbot.waitUntil(lambda: window.case_list.model.rowCount() < 13)
    assert window.case_list.model.rowCount() >= 1
    window.case_list.search.clear()
    window.case_list.search.setText("Łukasiewicz")
    window.case_list.apply_filter()
    assert set(_visible_texts(window, "poster")) == {"Zoë Łukasiewicz"} | (
        set(_visible_texts(window, "poster")) - {"Zoë Łukasiewicz"}
    )
    assert "Showing" in window.case_list.counts_label.text()


@pytest.mark.window_reads_only
def test_status_category_and_overdue_filters(window: MainWindow) -> None:
    lst = window.case_list
    lst.category_filter.setCurrentIndex(lst.category_filter.findData(Category.SAFEGUARDING.value))
    safeguarding = lst.model.rowCount()
    assert 0 < safeguarding < 13
    assert all("Safeguarding" in text for text in _visible_texts(window, "categories"))
    lst.category_filter.setCurrentIndex(0)
    lst.status_filter.setCurrentIndex(lst.status_filter.findData(CaseStatus.RESOLVED.value))
    assert set(_visible_texts(window, "status")) == {"Resolved"}
    lst.status_filter.setCurrentIndex(0)
    lst.overdue_only.setChecked(True)
    overdue = lst.model.rowCount()
    assert overdue == window.services.cases.counts(CaseFilter()).overdue
    assert all(text.endswith("(overdue)") for text in _visible_texts(window, "follow_up_due"))


@pytest.mark.window_reads_only
def test_sorting_by_reference(window: MainWindow) -> None:
    window.case_list.table.sortByColumn(_column("reference"), Qt.SortOrder.AscendingOrder)
    refs = _visible_texts(window, "reference")
    assert refs == sorted(refs)
    window.case_list.table.sortByColumn(_column("reference"), Qt.SortOrder.DescendingOrder)
    assert _visible_texts(window, "reference") == sorted(refs, reverse=True)


def test_new_case_through_the_dialog_appears_in_the_list(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = NewCaseDialog(window.services, window)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.form.title, "Comments about the Year 6 residential")
    dialog.form.category_boxes[Category.ABUSIVE].setChecked(True)
    dialog.form.platform.setCurrentText("Facebook")
    dialog.posted_by.setText("Nguyễn Thị Hồng")
    dialog.accept()
    assert dialog.created is not None
    reference = dialog.created.reference
    window.signals.data_changed.emit(dialog.created.id)
    assert reference in _visible_texts(window, "reference")
    assert window.case_list.model.rowCount() == 14
    row = _visible_texts(window, "reference").index(reference)
    assert _visible_texts(window, "poster")[row] == "Nguyễn Thị Hồng"


@pytest.mark.window_reads_only
def test_new_case_without_a_standard_is_refused_and_nothing_saved(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    dialog = NewCaseDialog(window.services, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.form.title.setText("No standard chosen")
    dialog.accept()
    assert dialog.created is None
    assert dialog.isVisible()
    assert "at least one standard" in dialog.form.error.text()
    assert window.services.cases.count_cases(CaseFilter()) == 13


def test_status_menu_offers_only_allowed_moves_and_records_them(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    ids = window.services.cases.all_case_ids(
        CaseFilter(statuses=frozenset({CaseStatus.NEW})), window.case_list.model.case_sort
    )
    window.case_list.select_case(ids[0])
    detail = window.case_detail
    assert detail.case is not None and detail.case.status == CaseStatus.NEW
    offered = [a.text().replace("&", "") for a in detail.status_menu.actions()]
    assert "Evidence gathered" in offered
    assert "Resolved" not in offered  # a new case cannot be resolved without work

    def type_note(dialog) -> None:  # type: ignore[no-untyped-def]
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue("Screenshots saved from two parents")
        dialog.accept()

    answer_next_dialog(type_note)
    detail.change_status(CaseStatus.EVIDENCE_GATHERED)
    assert detail.case.status == CaseStatus.EVIDENCE_GATHERED
    newest = detail.events_table.item(0, 2).text()
    assert newest == (
        "Status changed from New to Evidence gathered: Screenshots saved from two parents"
    )
    row = window.case_list.table.currentIndex().row()
    assert window.case_list.model.index(row, _column("status")).data() == "Evidence gathered"


def test_editing_details_saves_and_records_the_change(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    detail = window.case_detail
    assert not detail.save_button.isEnabled()
    detail.form.title.selectAll()
    qtbot.keyClicks(detail.form.title, "Renamed by the head")
    assert detail.save_button.isEnabled()
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    assert detail.case is not None and detail.case.title == "Renamed by the head"
    assert detail.events_table.item(0, 2).text() == "Details changed: title"
    assert "Renamed by the head" in _visible_texts(window, "title")


@pytest.mark.window_reads_only
def test_invalid_edit_shows_a_sentence_and_saves_nothing(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    detail = window.case_detail
    assert detail.case is not None
    before = detail.case
    detail.form.post_url.setText("not a web address")
    detail.form.changed.emit()
    detail.save_details()
    assert "is not a web address" in detail.form.error.text()
    assert window.services.cases.get_case(before.id).post_url == before.post_url


@pytest.mark.window_reads_only
def test_keyboard_next_previous_and_find(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    first = window.case_detail.case
    window.next_action.trigger()
    second = window.case_detail.case
    assert first is not None and second is not None and first.id != second.id
    window.previous_action.trigger()
    assert window.case_detail.case is not None and window.case_detail.case.id == first.id
    window.find_action.trigger()
    assert window.case_list.search.hasFocus() or isinstance(window.focusWidget(), QLineEdit)


def test_window_remembers_its_size(demo_services: Services, qtbot) -> None:  # type: ignore[no-untyped-def]
    first = MainWindow(demo_services)
    qtbot.addWidget(first)
    first.resize(700, 500)  # the offscreen screen is 800×600; the window's minimum applies
    first.show()
    assert first.height() == 500
    first.close()
    second = MainWindow(demo_services)
    qtbot.addWidget(second)
    # The width is clamped to the small offscreen screen; the height shows the memory.
    assert second.height() == 500


@pytest.mark.window_reads_only
def test_leaving_unsaved_edits_asks_first(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    detail = window.case_detail
    assert detail.case is not None
    original = detail.case.id
    detail.form.title.setText("Half-typed title")
    detail.form.changed.emit()

    def cancel(box) -> None:  # type: ignore[no-untyped-def]
        assert isinstance(box, QMessageBox)
        box.button(QMessageBox.StandardButton.Cancel).click()

    answer_next_dialog(cancel)
    window.next_action.trigger()
    assert detail.case.id == original
    assert detail.form.title.text() == "Half-typed title"


def test_second_window_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # The lock is taken before the casebook opens: an empty one shows it as well as the
    # demonstration (which took a second to fill).
    services, lock = open_for_window(data, demo_if_empty=False)
    try:
        with pytest.raises(DataDirectoryInUseError, match="already open"):
            open_for_window(data, demo_if_empty=False)
    finally:
        services.close()
        lock.release()
    again = DataDirLock(data / "casebook.lock")
    again.acquire()
    again.release()


def test_the_about_box_names_versions_data_folder_log_and_last_backup(services: Services) -> None:
    from app.ui.main_window import about_text

    text = about_text(services)
    assert text.startswith("Conduct Casebook 0.1.0")
    assert "Python 3." in text and "Qt 6." in text and "SQLAlchemy 2." in text
    assert f"Data folder: {services.paths.root}" in text
    assert str(services.paths.logs / "casebook.log") in text
    assert "Last backup: none made yet" in text
    # A copy taken before a migration is not a backup the school made: not named as one.
    (services.paths.backups / "casebook-before-migration-0004-20261124-100000.sqlite3").write_bytes(
        b""
    )
    assert "before-migration" not in about_text(services)
    assert "Last backup: none made yet" in about_text(services)
    made = services.backups.backup(services.paths.root.parent / "school-backups")
    assert f"({made.path.name})" in about_text(services)


def test_a_case_changed_on_another_pc_is_reloaded_not_overwritten(  # type: ignore[no-untyped-def]
    window: MainWindow, demo_services: Services, qtbot
) -> None:
    from app.domain.records import CaseDraft
    from app.services.casebook import open_casebook

    window.case_list.select_row(0)
    detail = window.case_detail
    assert detail.case is not None
    shown = detail.case
    # Another PC (a second connection to the same records) saves first.
    other = open_casebook(
        demo_services.paths.root,
        actor="Mr B. Deputy",
        may_migrate=False,
        key=demo_services.data_key,
    )
    try:
        other.cases.update_case(
            shown.id,
            CaseDraft(title="Retitled by the deputy", categories=shown.categories),
            expected_version=shown.version,
        )
    finally:
        other.close()
    detail.form.title.setText("Retitled by the head")
    detail.form.changed.emit()
    seen: list[str] = []

    def reload(box) -> None:  # type: ignore[no-untyped-def]
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    answer_next_dialog(reload)
    assert detail.save_details() is False
    assert "was changed by Mr B. Deputy at " in seen[0] and "Reload the case now?" in seen[0]
    assert detail.form.title.text() == "Retitled by the deputy"
    assert demo_services.cases.get_case(shown.id).title == "Retitled by the deputy"
