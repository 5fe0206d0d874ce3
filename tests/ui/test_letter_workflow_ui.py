"""Letters in the workflow as the head uses them in the window (real widgets, offscreen): the
school's own paragraph, the questions before an unusual letter, "Mark as sent…", the
checklist saying a letter is prepared, and the ladder's contacts and report references."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app.domain.categories import Category
from app.domain.letters import LetterKind, SendMethod
from app.domain.people import CaseRole
from app.domain.records import CaseDraft, PersonDraft
from app.domain.status import CaseStatus
from app.services.casebook import Services, open_casebook
from app.services.demo import DEMO_SCHOOL_PROFILE
from app.services.operations import case_changes
from app.ui.dialogs.issue_letter import IssueLetterDialog
from app.ui.dialogs.school_profile import SchoolProfileDialog
from app.ui.signals import AppSignals
from app.ui.views.letters_tab import LettersTab, MarkSentDialog
from app.ui.views.workflow_tab import ContactDialog, WorkflowTab

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Services:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=lambda: NOW)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def _case(services: Services, role: CaseRole = CaseRole.AUTHOR) -> tuple[int, int]:
    case = services.cases.open_case(
        CaseDraft(
            title="Abusive post",
            categories=frozenset({Category.ABUSIVE}),
            platform="X",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="@EcclestonParents",
            inaccurate_text="That the school cancelled the trip.",
            correct_facts="The trip goes ahead on 4 December.",
        )
    )
    person = services.people.add_person(
        PersonDraft(name="Nguyễn Thị Hồng", address_lines=("4 Sample Street",), postcode="WA10 5AB")
    )
    services.cases.link_person(case.id, person.id, role)
    return case.id, person.id


def _text(pdf: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _answer_next_box(button: QMessageBox.StandardButton, seen: list[str]) -> None:
    """Answer the next message box the dialog opens, as the head would click."""

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.button(button).click()
        else:
            QTimer.singleShot(20, answer)

    QTimer.singleShot(0, answer)


def test_the_paragraph_typed_is_previewed_and_issued(qtbot, services: Services) -> None:
    case_id, _ = _case(services)
    dialog = IssueLetterDialog(services, case_id)
    qtbot.addWidget(dialog)
    words = "Thank you for speaking with me at the gate this morning."
    dialog.paragraph.setPlainText(words)
    qtbot.waitUntil(lambda: dialog.prepared is not None and words in _text(dialog.prepared.pdf))
    dialog.issue_button.click()
    assert dialog.issued is not None
    assert words in _text(services.letters.letter_pdf(dialog.issued.id))
    # Not allowed by the profile: no button to edit the wording.
    assert not dialog.wording_button.isVisibleTo(dialog)


def test_a_removal_letter_to_the_reporter_is_asked_about_first(qtbot, services: Services) -> None:
    case_id, _ = _case(services, CaseRole.REPORTER)
    dialog = IssueLetterDialog(services, case_id, kind=LetterKind.REMOVAL)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.prepared is not None)
    assert "not linked to case SM-2026-0001 as the author" in dialog.question.text()
    seen: list[str] = []
    _answer_next_box(QMessageBox.StandardButton.No, seen)
    dialog.issue_button.click()
    assert seen and "Issue the letter anyway?" in seen[0]
    assert dialog.issued is None and services.letters.list_letters(case_id) == []
    _answer_next_box(QMessageBox.StandardButton.Yes, seen)
    dialog.issue_button.click()
    assert dialog.issued is not None


def test_a_letter_of_another_standard_is_asked_about_first(qtbot, services: Services) -> None:
    case_id, _ = _case(services)
    dialog = IssueLetterDialog(services, case_id, kind=LetterKind.CORRECTION)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.prepared is not None)
    assert "quotes standard 4" in dialog.question.text()
    seen: list[str] = []
    _answer_next_box(QMessageBox.StandardButton.No, seen)
    dialog.issue_button.click()
    assert services.letters.list_letters(case_id) == []


def test_mark_as_sent_on_the_letters_tab_moves_the_case_on(qtbot, services: Services) -> None:
    case_id, _ = _case(services)
    signals = AppSignals()
    tab = LettersTab(services, signals)
    workflow = WorkflowTab(services, signals)
    qtbot.addWidget(tab)
    qtbot.addWidget(workflow)
    tab.set_case(case_id)
    workflow.set_case(case_id, frozenset({Category.ABUSIVE}))
    services.letters.issue(case_id, LetterKind.REMOVAL)
    # As the window announces a change made elsewhere (here, the letter issued above).
    signals.runner.announce(
        case_changes(case_id, cases=True, letters=True, workflow=True), "another screen"
    )
    assert tab.table.item(0, 3).text() == "Prepared (not yet sent)"
    rows = [workflow.checklist.item(i).text() for i in range(workflow.checklist.count())]
    assert any("removal  — letter prepared, not yet sent" in r for r in rows)
    assert tab.sent_button.isEnabled()

    def fill() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, MarkSentDialog):
            QTimer.singleShot(20, fill)
            return
        box.method_box.setCurrentIndex(box.method_box.findData(SendMethod.HAND))
        box.date_edit.setDate(QDate(2026, 11, 23))  # before the letter: held at its date
        assert box.date_edit.date() == QDate(2026, 11, 24)
        box.accept()

    QTimer.singleShot(0, fill)
    tab.sent_button.click()
    assert tab.table.item(0, 3).text() == "24/11/2026, by hand"
    assert not tab.sent_button.isEnabled()
    assert services.cases.get_case(case_id).status == CaseStatus.LETTER_SENT
    rows = [workflow.checklist.item(i) for i in range(workflow.checklist.count())]
    removal = next(r for r in rows if "asking for removal" in r.text())
    assert removal.checkState() == Qt.CheckState.Checked
    assert "Current step: First letter" in workflow.position.text()


def test_the_helpline_step_shows_its_contact_and_keeps_a_reference(
    qtbot, services: Services
) -> None:
    case = services.cases.open_case(
        CaseDraft(title="Child named", categories=frozenset({Category.SAFEGUARDING}))
    )
    signals = AppSignals()
    tab = WorkflowTab(services, signals)
    qtbot.addWidget(tab)
    tab.set_case(case.id, frozenset({Category.SAFEGUARDING}))
    tab.step_choice.setCurrentIndex(tab.step_choice.findData("helpline"))
    assert "0344 381 4772" in tab.step_contact.text()
    assert tab.step_reference.isEnabled()
    tab.step_choice.setCurrentIndex(tab.step_choice.findData("meeting"))
    assert not tab.step_reference.isEnabled() and not tab.step_contact.isVisibleTo(tab)
    tab.step_choice.setCurrentIndex(tab.step_choice.findData("report-platform"))
    tab.step_reference.setText("IG-20261124-01")
    tab.step_button.click()
    [step] = services.workflow.escalation(case.id).steps
    assert step.reference == "IG-20261124-01"
    assert "(reference IG-20261124-01)" in tab.steps.text()
    # Safeguarding: the helpline is due at once.
    assert "Next: Professionals Online Safety Helpline" in tab.position.text()

    def change() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, ContactDialog):
            QTimer.singleShot(20, change)
            return
        box.edits["telephone"].setText("0344 999 9999")
        box.accept()

    tab.step_choice.setCurrentIndex(tab.step_choice.findData("helpline"))
    QTimer.singleShot(0, change)
    tab.edit_contact_button.click()
    contact = services.workflow.policy().step("helpline").contact
    assert contact is not None and contact.telephone == "0344 999 9999"


def test_profile_dialog_keeps_closures_and_the_wording_setting(qtbot, services: Services) -> None:
    dialog = SchoolProfileDialog(services)
    qtbot.addWidget(dialog)
    dialog.edits["school_closures"].setPlainText("Christmas: 19/12/2026 to 03/01/2027")
    dialog.edits["letter_body_editable"].setChecked(True)
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    profile = services.letters.profile.get()
    assert profile.school_closures == "Christmas: 19/12/2026 to 03/01/2027"
    assert profile.allows_body_edit()
    # The issue dialog now offers to edit the wording.
    case_id, _ = _case(services)
    issue = IssueLetterDialog(services, case_id)
    qtbot.addWidget(issue)
    assert issue.wording_button.isVisibleTo(issue)
