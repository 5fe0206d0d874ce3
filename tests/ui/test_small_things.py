"""The small things a head trips on: the selection, the audit trail, the recovery key, ..."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.services.casebook import Services
from app.ui.dialogs.report_wizard import ReportWizard
from app.ui.dialogs.sign_in import RecoveryKeyDialog
from app.ui.file_dialogs import remember_folder, start_folder
from app.ui.main_window import MainWindow
from tests.ui.conftest import answer_next_dialog

KEY = "ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2-34567"


@pytest.mark.window_reads_only
def test_after_staying_on_unsaved_edits_the_list_shows_the_case_on_screen(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
) -> None:
    table = window.case_list.table
    window.case_list.select_row(0)
    shown = window.case_detail.case.id
    window.case_detail.form.title.setText("Half-typed title")
    window.case_detail.form.changed.emit()

    def stay(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        box.button(QMessageBox.StandardButton.Cancel).click()

    answer_next_dialog(stay)
    row = table.rowViewportPosition(3) + 4
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(30, row))
    qtbot.waitUntil(lambda: window.case_list.selected_case_id() == shown)
    QApplication.processEvents()
    assert window.case_detail.case.id == shown
    selected = {i.row() for i in table.selectionModel().selectedRows()}
    assert selected == {table.currentIndex().row()}
    assert window.case_list.selected_case_ids() == [shown]


@pytest.mark.window_reads_only
def test_opening_a_case_is_one_view_on_the_audit_trail(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    QApplication.processEvents()
    audit = window.services.audit
    before = audit.entries(limit=1)[0].seq if audit.entries(limit=1) else 0
    window.case_list.select_row(2)
    QApplication.processEvents()
    reference = window.case_detail.case.reference
    new = [e for e in audit.entries(limit=50) if e.seq > before]
    views = [e for e in new if e.action == "view case"]
    assert len(views) == 1, [(e.action, e.target) for e in new]
    letters = [e for e in new if e.action == "export letter"]
    assert len(letters) <= 1
    assert all(e.target == reference for e in views)


def test_the_recovery_key_is_kept_before_the_dialog_closes(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = RecoveryKeyDialog(KEY)
    qtbot.addWidget(dialog)
    dialog.show()
    # Enter and Escape do not throw the key away.
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    dialog.close()
    assert dialog.isVisible()
    assert not dialog.done_button.isEnabled()
    assert "cannot be shown again" in dialog.message.text()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == KEY
    pdf = tmp_path / "key.pdf"
    dialog.save_pdf(str(pdf))
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)
    assert KEY in text and "school safe" in text
    dialog.kept.click()
    dialog.done_button.click()
    assert not dialog.isVisible()
    assert dialog.result() == RecoveryKeyDialog.DialogCode.Accepted


def test_escape_in_the_wizard_asks_before_throwing_away_what_was_typed(
    qtbot,  # type: ignore[no-untyped-def]
    ui_services: Services,
) -> None:
    wizard = ReportWizard(ui_services)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.summary.setPlainText("A long description of the post")
    asked: list[str] = []

    def keep_typing(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.Cancel).click()

    answer_next_dialog(keep_typing)
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert asked and wizard.isVisible()
    assert wizard.summary.toPlainText() == "A long description of the post"

    def discard(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        box.button(QMessageBox.StandardButton.Discard).click()

    answer_next_dialog(discard)
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert not wizard.isVisible()


def test_the_wizard_names_kinds_of_social_media_plainly(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    wizard = ReportWizard(ui_services)
    qtbot.addWidget(wizard)
    kinds = [wizard.media_kind.itemText(i) for i in range(wizard.media_kind.count())]
    assert not any("\\" in kind for kind in kinds)
    assert any(kind.startswith("Blog or microblog") for kind in kinds)


@pytest.mark.window_reads_only
def test_an_unknown_date_shows_blank(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    posted = window.case_detail.form.posted_at
    posted.none.setChecked(True)
    assert posted.edit.text().strip() == ""
    posted.none.setChecked(False)
    assert posted.edit.text().strip() != ""
    window.case_detail.revert_details()


def test_file_dialogs_remember_their_folder_for_each_purpose(
    window: MainWindow, tmp_path: Path
) -> None:
    letters = tmp_path / "letters"
    pictures = tmp_path / "pictures"
    letters.mkdir()
    pictures.mkdir()
    remember_folder("letters", letters / "SM-2026-0001 letter.pdf")
    remember_folder("pictures", pictures / "logo.png")
    assert start_folder("letters") == letters
    assert start_folder("pictures") == pictures
    assert start_folder("guidance leaflet") != letters
    ini = window.services.paths.root / "window.ini"
    assert str(letters) in ini.read_text()


@pytest.mark.window_reads_only
def test_search_ignores_case_and_accents(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from app.domain.records import CaseFilter

    cases = window.services.cases
    accented = cases.count_cases(CaseFilter(text="Zoë"))
    assert accented >= 1
    assert cases.count_cases(CaseFilter(text="zoe")) == accented
    assert cases.count_cases(CaseFilter(text="ZOE")) == accented
    polish = cases.count_cases(CaseFilter(text="Łukasiewicz"))
    assert polish >= 1
    assert cases.count_cases(CaseFilter(text="lukas")) == polish
    window.case_list.search.setText("lukasiewicz")
    window.case_list.apply_filter()
    assert window.case_list.model.rowCount() == polish


def test_a_second_start_brings_the_open_window_forward(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.ui.app import FirstWindow, bring_first_window_forward

    other = tmp_path / "another casebook"
    assert not bring_first_window_forward(other, timeout_ms=300)  # nobody is listening
    first = QWidget()
    qtbot.addWidget(first)
    first.showMinimized()
    assert first.isMinimized()
    FirstWindow(tmp_path, first)
    assert bring_first_window_forward(tmp_path)
    qtbot.waitUntil(lambda: not first.isMinimized(), timeout=20_000)
    assert first.isVisible()
    assert not bring_first_window_forward(other, timeout_ms=300)


def test_a_leaver_is_disabled_not_deleted_and_their_audit_entries_stay(
    qtbot,  # type: ignore[no-untyped-def]
    ui_services: Services,
) -> None:
    import pytest

    from app.domain.access import Role
    from app.domain.errors import CasebookError
    from app.ui.dialogs.users import UsersDialog
    from app.ui.signals import AppSignals

    users = ui_services.users
    users.create_first_user("head", "tide-marble-orchard-42")
    users.sign_in("head", "tide-marble-orchard-42")
    users.add_user("Mrs Leaver", Role.OFFICE, "quartz-meadow-lantern-7")
    users.sign_in("Mrs Leaver", "quartz-meadow-lantern-7")
    users.sign_in("head", "tide-marble-orchard-42")
    dialog = UsersDialog(ui_services, AppSignals())
    qtbot.addWidget(dialog)
    dialog.select_user("Mrs Leaver")

    def yes(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        box.button(QMessageBox.StandardButton.Yes).click()

    answer_next_dialog(yes)
    dialog.disable_button.click()
    leaver = next(u for u in users.list_users() if u.name == "Mrs Leaver")
    assert leaver.disabled
    assert "Disabled" in dialog.table.item(dialog.table.currentRow(), 2).text()
    with pytest.raises(CasebookError):
        users.sign_in("Mrs Leaver", "quartz-meadow-lantern-7")
    users.sign_in("head", "tide-marble-orchard-42")
    actors = {e.user for e in ui_services.audit.entries(limit=200)}
    assert "Mrs Leaver" in actors  # her entries are still there
    with pytest.raises(CasebookError, match="your own account"):
        users.disable_user("head")
    # A new password lets her back in.
    users.set_password("Mrs Leaver", "velvet-harbour-compass-3")
    users.sign_in("Mrs Leaver", "velvet-harbour-compass-3")


def test_an_unknown_date_of_birth_shows_blank(qtbot) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from app.ui.dialogs.retention import DateOfBirthDialog

    unknown = DateOfBirthDialog("SM-2026-0001", None)
    qtbot.addWidget(unknown)
    assert unknown.none.isChecked() and unknown.edit.text().strip() == ""
    assert unknown.value() is None
    unknown.none.setChecked(False)
    assert unknown.edit.text().strip() != "" and unknown.value() is not None
    known = DateOfBirthDialog("SM-2026-0001", date(2018, 3, 5))
    qtbot.addWidget(known)
    assert known.value() == date(2018, 3, 5) and known.edit.text() == "05/03/2018"
