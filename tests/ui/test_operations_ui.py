"""One command per action, seen from the window: both "open a case" dialogs, the runner's
single change notification, and the same sentence for refusals and cancellation."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMessageBox, QWizard

from app.domain.categories import Category
from app.domain.errors import OperationCancelled, ValidationError
from app.domain.policy import CaseOutcome, StepOutcome
from app.domain.records import CaseFilter, PersonDraft
from app.domain.status import CaseStatus
from app.services.casebook import Services
from app.services.operations import OpChanges, OpResult, case_changes
from app.ui.dialogs.new_case import NewCaseDialog
from app.ui.dialogs.report_wizard import ReportWizard
from app.ui.main_window import MainWindow
from app.ui.operations import refusal
from app.ui.signals import AppSignals
from app.ui.views.today import TodayView
from app.ui.views.workflow_tab import WorkflowTab
from tests.conftest import case_draft

from .conftest import accept_dialog, answer_next_dialog


def _two_people_called(services: Services, name: str) -> None:
    services.people.add_person(PersonDraft(name=name))
    services.people.add_person(PersonDraft(name=name))


def _case_count(services: Services) -> int:
    return services.cases.count_cases(CaseFilter())


def test_new_case_dialog_with_an_ambiguous_author_saves_nothing_and_never_twice(
    qtbot, ui_services: Services
) -> None:  # type: ignore[no-untyped-def]
    _two_people_called(ui_services, "Sam Jones")
    signals = AppSignals()
    heard: list[OpChanges] = []
    signals.operation_did_execute.connect(heard.append)
    dialog = NewCaseDialog(ui_services, signals=signals)
    qtbot.addWidget(dialog)
    dialog.form.title.setText("Comments about the nativity play")
    dialog.form.category_boxes[Category.ABUSIVE].setChecked(True)
    dialog.posted_by.setText("Sam Jones")

    dialog.accept()
    assert dialog.created is None
    assert "More than one person is called Sam Jones" in dialog.form.error.text()
    assert _case_count(ui_services) == 0
    assert heard == []

    # A second OK with the same name is refused again: still no case at all.
    dialog.accept()
    assert _case_count(ui_services) == 0

    # Naming the author apart from the others opens exactly one case, linked to them.
    dialog.posted_by.setText("Sam Jones (Year 4 parent)")
    dialog.accept()
    assert dialog.created is not None
    assert _case_count(ui_services) == 1
    case = ui_services.cases.get_case(dialog.created.id)
    assert [p.person.name for p in case.people] == ["Sam Jones (Year 4 parent)"]
    dialog.accept()  # a stray second press after success opens nothing new
    assert _case_count(ui_services) == 1
    assert len(heard) == 1
    assert heard[0].case_ids == {case.id} and heard[0].cases and heard[0].people
    assert heard[0].initiator == "new case"


def test_report_wizard_with_an_ambiguous_author_saves_nothing_and_never_twice(
    qtbot, ui_services: Services
) -> None:  # type: ignore[no-untyped-def]
    _two_people_called(ui_services, "Alex Smith")
    wizard = ReportWizard(ui_services)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.title.setText("Photo of the sports day")
    wizard.next()
    wizard.posted_by.setText("Alex Smith")
    wizard.next()
    wizard.abusive.setChecked(True)
    wizard.next()
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    finish.click()
    assert wizard.created is None
    assert "More than one person is called Alex Smith" in wizard.error.text()
    assert _case_count(ui_services) == 0
    finish.click()
    assert _case_count(ui_services) == 0
    wizard.back()
    wizard.back()
    wizard.posted_by.setText("")
    wizard.next()
    wizard.next()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.created is not None
    assert _case_count(ui_services) == 1


def test_refusals_and_cancellation_read_the_same_everywhere() -> None:
    stopped = refusal(OperationCancelled("Adding evidence was stopped; nothing was added."))
    assert stopped.cancelled and stopped.message.startswith("Adding evidence was stopped")
    refused = refusal(ValidationError("Please give the case a title."))
    assert not refused.cancelled and refused.message == "Please give the case a title."
    broken = refusal(KeyError("x"))
    assert not broken.cancelled and "details are in the log file" in broken.message


def test_runner_runs_slow_commands_on_the_pool_and_announces_once(qtbot) -> None:  # type: ignore[no-untyped-def]
    signals = AppSignals()
    heard: list[OpChanges] = []
    signals.operation_did_execute.connect(heard.append)
    values: list[object] = []

    def command(progress, cancelled):  # type: ignore[no-untyped-def]
        progress(1, 2)
        return OpResult("done", case_changes(7, evidence=True))

    operation = signals.runner.run(command, initiator="evidence tab", on_done=values.append)
    with qtbot.waitSignal(operation.finished, timeout=30_000):
        pass
    assert values == ["done"]
    assert len(heard) == 1 and heard[0].initiator == "evidence tab"
    assert heard[0].touches(7) and not heard[0].touches(8)


def test_cancelling_a_slow_command_says_so_and_announces_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    import time

    signals = AppSignals()
    heard: list[OpChanges] = []
    signals.operation_did_execute.connect(heard.append)
    said: list[object] = []

    def command(progress, cancelled):  # type: ignore[no-untyped-def]
        # Ends by itself only long after the wait below gives up: the cancel must reach it.
        deadline = time.monotonic() + 90
        while not cancelled() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise OperationCancelled("Adding evidence was stopped; nothing was added.")

    operation = signals.runner.run(command, initiator="evidence tab", on_refused=said.append)
    operation.cancel()
    with qtbot.waitSignal(operation.finished, timeout=30_000):  # a loaded machine is slow
        pass
    assert heard == []
    assert len(said) == 1 and said[0].cancelled  # type: ignore[attr-defined]


# ----- through the main window: unsaved work belongs to its case --------------------------


def _png(width: int = 400, height: int = 300) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


def test_a_typed_meeting_note_stays_with_its_case(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    first = window.case_detail.case
    assert first is not None
    tab = window.case_detail.workflow_tab
    tab.contact_summary.setPlainText("Met Mrs A about the post; she agreed to remove it.")
    window.case_list.select_row(1)
    second = window.case_detail.case
    assert second is not None and second.id != first.id
    assert tab.contact_summary.toPlainText() == ""
    # Nothing typed here: adding is refused ("write a short summary"), nothing is added.
    answer_next_dialog(accept_dialog)
    tab.record_contact()
    assert not any("Mrs A" in e.summary for e in window.services.cases.get_case(second.id).events)
    window.case_list.select_row(0)
    assert tab.contact_summary.toPlainText().startswith("Met Mrs A")
    tab.record_contact()
    events = window.services.cases.get_case(first.id).events
    assert any("she agreed to remove it" in e.summary for e in events)
    assert not any("Mrs A" in e.summary for e in window.services.cases.get_case(second.id).events)


def test_closing_the_window_asks_before_discarding_a_typed_note(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    window.case_detail.workflow_tab.contact_summary.setPlainText("Phoned the parent.")
    window.case_list.select_row(1)
    answer_next_dialog(lambda box: box.reject())  # Cancel: stay open
    assert window.case_detail.confirm_close() is False
    answer_next_dialog(
        lambda box: box.button(QMessageBox.StandardButton.Discard).click()  # type: ignore[attr-defined]
    )
    assert window.case_detail.confirm_close() is True


def test_drawn_redaction_boxes_are_offered_for_saving_before_leaving_the_case(
    window: MainWindow, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    case = window.case_detail.case
    assert case is not None
    tab = window.case_detail.evidence_tab
    window.services.operations.add_evidence_bytes(case.id, [("names.png", _png())])
    tab.reload()
    tab.redact_button.setChecked(True)
    view = tab.picture
    start = view.mapFromScene(QPointF(50, 40))
    end = view.mapFromScene(QPointF(150, 90))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), end)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert tab.unsaved_boxes() == 1
    # Cancel keeps the boxes and the case; Save makes the redacted copy, then moves on.
    answer_next_dialog(lambda box: box.button(QMessageBox.StandardButton.Cancel).click())  # type: ignore[attr-defined]
    assert window.case_detail.confirm_close() is False
    assert tab.unsaved_boxes() == 1
    answer_next_dialog(lambda box: box.button(QMessageBox.StandardButton.Save).click())  # type: ignore[attr-defined]
    assert window.case_detail.confirm_leave() is True
    copies = window.services.evidence.redacted_copies(tab.exhibits[0].id)
    assert len(copies) == 1
    assert tab.unsaved_boxes() == 0


def test_cancelling_an_import_from_the_tab_adds_nothing(
    window: MainWindow, qtbot, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    window.case_list.select_row(0)
    case = window.case_detail.case
    assert case is not None
    tab = window.case_detail.evidence_tab
    before = len(window.services.evidence.list_evidence(case.id))
    paths = []
    for number in range(40):
        path = tmp_path / f"shot{number}.png"
        path.write_bytes(_png(300 + number, 200))
        paths.append(path)
    operation = tab.import_files(paths)
    assert operation is not None
    tab.cancel_import()
    qtbot.waitUntil(lambda: tab._task is None, timeout=20_000)
    assert tab.message.text() == "Adding evidence was stopped; nothing was added."
    assert len(window.services.evidence.list_evidence(case.id)) == before
    assert not tab.progress_row.isVisible()


# ----- the Follow-up tab and Today -----------------------------------------------------------


def _follow_up_tab(qtbot, services: Services, status: CaseStatus):  # type: ignore[no-untyped-def]
    case = services.operations.open_case(case_draft()).value
    if status is not CaseStatus.NEW:
        services.operations.change_status(case.id, status)
    signals = AppSignals()
    tab = WorkflowTab(services, signals)
    qtbot.addWidget(tab)
    tab.set_case(case.id, case.categories)
    return case, tab


def test_an_outcome_of_removed_asks_to_resolve_the_case(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    case, tab = _follow_up_tab(qtbot, ui_services, CaseStatus.EVIDENCE_GATHERED)
    tab.outcome_choice.setCurrentIndex(tab.outcome_choice.findData(CaseOutcome.REMOVED.value))
    answer_next_dialog(lambda box: box.button(QMessageBox.StandardButton.Yes).click())  # type: ignore[attr-defined]
    tab.record_outcome()
    assert ui_services.cases.get_case(case.id).status is CaseStatus.RESOLVED
    assert "Removed" in tab.outcome.text()


def test_declining_to_resolve_records_the_outcome_only(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    case, tab = _follow_up_tab(qtbot, ui_services, CaseStatus.EVIDENCE_GATHERED)
    answer_next_dialog(lambda box: box.button(QMessageBox.StandardButton.No).click())  # type: ignore[attr-defined]
    tab.recheck(False)
    assert ui_services.cases.get_case(case.id).status is CaseStatus.EVIDENCE_GATHERED
    outcome = ui_services.workflow.outcome(case.id)
    assert outcome is not None and outcome.outcome is CaseOutcome.REMOVED


def test_today_shows_the_next_ladder_step_that_has_fallen_due(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    case = ui_services.operations.open_case(case_draft()).value
    earlier = ui_services.ctx.now() - timedelta(days=8)
    ui_services.operations.take_step(case.id, "first-letter", StepOutcome.NO_RESPONSE, when=earlier)
    view = TodayView(ui_services, AppSignals())
    qtbot.addWidget(view)
    labels = [view.table.item(row, 2).text() for row in range(view.table.rowCount())]
    assert "Next escalation step: Follow-up letter" in labels
