"""The Letters tab and its dialogs as a head teacher uses them (real widgets, offscreen)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter

from app.domain.categories import Category
from app.domain.letters import LetterKind, SendMethod
from app.domain.people import CaseRole
from app.domain.records import CaseDraft, PersonDraft
from app.services.casebook import Services, open_casebook
from app.services.demo import DEMO_SCHOOL_PROFILE
from app.ui.dialogs.issue_letter import IssueLetterDialog
from app.ui.dialogs.school_profile import SchoolProfileDialog
from app.ui.dialogs.template_editor import TemplateEditorDialog
from app.ui.signals import AppSignals
from app.ui.views.letters_tab import LettersTab
from app.ui.views.pdf_preview import a4_printer, print_pdf
from tests.ui.conftest import screenshot

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Services:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=lambda: NOW)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


@pytest.fixture
def case_id(services: Services) -> int:
    case = services.cases.open_case(
        CaseDraft(
            title="Abusive post",
            categories=frozenset({Category.ABUSIVE}),
            platform="X",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="@EcclestonParents",
        )
    )
    person = services.people.add_person(
        PersonDraft(name="Nguyễn Thị Hồng", address_lines=("4 Sample Street",), postcode="WA10 5AB")
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    return case.id


def test_issue_dialog_previews_then_records_the_letter(qtbot, services: Services, case_id: int):
    dialog = IssueLetterDialog(services, case_id)
    qtbot.addWidget(dialog)
    assert dialog.issue_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.preview.page_count() == 1)
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(LetterKind.FOLLOW_UP))
    assert "earlier letter" in dialog.message.text()
    assert not dialog.issue_button.isEnabled()
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(LetterKind.REMOVAL))
    dialog.method_box.setCurrentIndex(dialog.method_box.findData(SendMethod.EMAIL))
    dialog.issue_button.click()
    assert dialog.issued is not None
    [letter] = services.letters.list_letters(case_id)
    assert letter.method == SendMethod.EMAIL and letter.recipient_name == "Nguyễn Thị Hồng"


def test_issuing_a_letter_without_the_posts_details_asks_first(
    qtbot, services: Services, monkeypatch: pytest.MonkeyPatch
):
    from PySide6.QtWidgets import QMessageBox

    case = services.cases.open_case(
        CaseDraft(title="Post", categories=frozenset({Category.ABUSIVE}), platform="Facebook")
    )
    person = services.people.add_person(
        PersonDraft(
            name="Kathleen Whitfield", address_lines=("12 Example Close",), postcode="WA10 5AA"
        )
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    dialog = IssueLetterDialog(services, case.id)
    qtbot.addWidget(dialog)
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(LetterKind.REMOVAL))
    # Said before "Issue letter" is pressed.
    assert "does not record the group or page, or the date of the post" in dialog.question.text()
    asked: list[tuple[str, str]] = []
    answer = [QMessageBox.StandardButton.No]

    def question(_parent, title, text, *_args):  # type: ignore[no-untyped-def]
        asked.append((title, text))
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", question)
    dialog.issue_button.click()
    assert asked[0][0] == "Send it without the post’s full details?"
    assert "will say only that it was posted on Facebook" in asked[0][1]
    assert dialog.issued is None and services.letters.list_letters(case.id) == []
    answer[0] = QMessageBox.StandardButton.Yes
    dialog.issue_button.click()
    assert dialog.issued is not None and len(services.letters.list_letters(case.id)) == 1


def test_letters_tab_lists_previews_and_saves(qtbot, services: Services, case_id: int, tmp_path):
    signals = AppSignals()
    tab = LettersTab(services, signals)
    qtbot.addWidget(tab)
    tab.resize(1100, 600)
    tab.set_case(case_id)
    assert tab.table.rowCount() == 0 and not tab.print_button.isEnabled()
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    signals.data_changed.emit(case_id)
    assert tab.table.rowCount() == 1
    assert tab.table.item(0, 2).text() == "Nguyễn Thị Hồng"
    assert tab.print_button.isEnabled()
    qtbot.waitUntil(lambda: tab.preview.page_count() == 1)
    target = tmp_path / "copy.pdf"
    tab.save_selected_pdf(str(target))
    assert target.read_bytes() == services.letters.letter_pdf(issued.id)
    tab.export_selected_docx(str(tmp_path / "copy.docx"))
    assert (tmp_path / "copy.docx").stat().st_size > 1000
    screenshot(qtbot, tab, "letters_tab", 500)  # QtPdf draws pages in the background


def test_printing_to_a_pdf_printer_prints_every_page(qtbot, services: Services, case_id, tmp_path):
    pdf = services.letters.prepare(case_id, LetterKind.REMOVAL).pdf
    printer = a4_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert print_pdf(pdf, printer=printer)
    reader = PdfReader(tmp_path / "printed.pdf")
    assert len(reader.pages) == 1
    assert round(float(reader.pages[0].mediabox.width)) == 595


def test_template_editor_names_an_unknown_field_and_saves_nothing(qtbot, services: Services):
    dialog = TemplateEditorDialog(services)
    qtbot.addWidget(dialog)
    dialog.resize(1200, 800)
    qtbot.waitUntil(lambda: dialog.preview.page_count() == 1)
    dialog.body.setPlainText("Dear parent, {{ school.motto }}")
    dialog.update_preview()
    assert "school.motto" in dialog.message.text()
    assert not dialog.save_button.isEnabled()
    assert services.letters.template(LetterKind.REMOVAL).version == "default-2"
    dialog.body.setPlainText("Please remove it.\n\n> {{ standard.text }}")
    dialog.update_preview()
    assert dialog.save_button.isEnabled()
    dialog.save_button.click()
    assert services.letters.template(LetterKind.REMOVAL).version == "school-1"
    screenshot(qtbot, dialog, "template_editor", 500)


def test_school_profile_dialog_saves_fields_and_images(qtbot, services: Services):
    dialog = SchoolProfileDialog(services)
    qtbot.addWidget(dialog)
    dialog.edits["telephone"].setText("01744 123456")
    png = io.BytesIO()
    Image.new("RGB", (300, 100), "navy").save(png, format="PNG")
    dialog.set_image("logo", png.getvalue())
    dialog.set_image("signature", b"not a picture")  # refused with a message box
    dialog.save()
    profile = services.letters.profile.get()
    assert profile.telephone == "01744 123456"
    assert profile.logo_sha256 and not profile.signature_sha256
    assert "not a picture this app can read" in dialog.problem.text()


def test_batch_print_worker_reports_progress_and_the_joined_pdf(
    qtbot, services: Services, case_id: int
):
    from app.ui.letter_batch import BatchPrintWorker

    services.letters.issue(case_id, LetterKind.REMOVAL)
    worker = BatchPrintWorker(services, [case_id])
    progress: list[int] = []
    worker.signals.progress.connect(lambda done, _total: progress.append(done))
    with qtbot.waitSignal(worker.signals.finished, timeout=10_000) as blocker:
        worker.run()
    assert progress == [1]
    assert len(PdfReader(io.BytesIO(blocker.args[0].pdf)).pages) == 1


def test_a_name_no_font_can_print_is_corrected_before_issuing(qtbot, services: Services):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.dialogs.person import PersonDialog

    case = services.cases.open_case(
        CaseDraft(
            title="Abusive post",
            categories=frozenset({Category.ABUSIVE}),
            platform="X",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="@EcclestonParents",
        )
    )
    person = services.people.add_person(
        PersonDraft(name="Li \U0002000b", address_lines=("4 Sample Street",), postcode="WA10 5AB")
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    dialog = IssueLetterDialog(services, case.id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "The name of Li \U0002000b has" in dialog.warning.text()
    assert not dialog.issue_button.isEnabled()
    assert dialog.correct_button.isVisible()

    def correct() -> None:
        editor = QApplication.activeModalWidget()
        assert isinstance(editor, PersonDialog)
        editor.name.setText("Li Wei")
        editor.accept()

    QTimer.singleShot(0, correct)
    dialog.correct_button.click()
    assert dialog.issue_button.isEnabled() and not dialog.correct_button.isVisible()
    dialog.issue_button.click()
    [letter] = services.letters.list_letters(case.id)
    assert letter.recipient_name == "Li Wei"
