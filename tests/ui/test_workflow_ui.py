"""The wizard, the Follow-up tab and the Today view, driven as a person would."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from app.domain.categories import Category
from app.domain.records import CaseDraft
from app.services.casebook import Services
from app.ui.dialogs.report_wizard import ReportWizard
from app.ui.main_window import MainWindow
from app.ui.signals import AppSignals
from app.ui.views.today import TodayView
from app.ui.views.workflow_tab import WorkflowTab


def test_wizard_proposes_standards_and_actions_and_opens_the_case(
    qtbot, ui_services: Services
) -> None:  # type: ignore[no-untyped-def]
    wizard = ReportWizard(ui_services)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.title.setText("Class photo with names")
    wizard.summary.setPlainText("A photo of Year 3 with first names")
    wizard.next()
    wizard.media_kind.setCurrentIndex(5)  # photo or video sharing
    wizard.platform.setText("Instagram")
    wizard.posted_by.setText("Pat Example")
    wizard.next()
    wizard.child.setChecked(True)
    wizard.inaccurate.setChecked(True)
    wizard.next()
    assert wizard.chosen_categories() == {Category.SAFEGUARDING, Category.INACCURATE}
    assert "designated safeguarding lead" in wizard.actions_label.text()
    wizard.category_checks[Category.INACCURATE].setChecked(False)
    assert "correction" not in wizard.actions_label.text()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.created is not None
    case = ui_services.cases.get_case(wizard.created.id)
    assert case.categories == {Category.SAFEGUARDING}
    assert case.platform == "Instagram" and case.poster == "Pat Example"
    assert "Kind of social media: Photo or video sharing" in case.summary
    assert ui_services.workflow.checklist(case.id)


def test_checklist_ticks_record_who_and_when(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    case = ui_services.cases.open_case(CaseDraft("Rude post", frozenset({Category.ABUSIVE})))
    signals = AppSignals()
    tab = WorkflowTab(ui_services, signals)
    qtbot.addWidget(tab)
    tab.set_case(case.id, case.categories)
    first = tab.checklist.item(0)
    assert first.checkState() == Qt.CheckState.Unchecked
    with qtbot.waitSignal(signals.data_changed):
        first.setCheckState(Qt.CheckState.Checked)
    item = tab.checklist.item(0)
    assert item.checkState() == Qt.CheckState.Checked
    assert "done" in item.text() and "Mrs Test" in item.text()
    assert ui_services.cases.get_case(case.id).events[-1].kind == "action_done"
    assert "First letter" in tab.position.text()
    tab.record_step()
    assert "Current step: First letter" in tab.position.text()
    tab.contact_kind.setCurrentIndex(1)
    tab.contact_present.setText("Mrs Test, Mr Parent")
    tab.contact_summary.setPlainText("Agreed to remove it")
    tab.record_contact()
    last = ui_services.cases.get_case(case.id).events[-1]
    assert last.kind == "phone_call" and "Mr Parent" in last.summary


def test_today_lists_overdue_actions_and_opens_the_case(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    case = ui_services.cases.open_case(CaseDraft("Rude post", frozenset({Category.SAFEGUARDING})))
    view = TodayView(ui_services, AppSignals())
    qtbot.addWidget(view)
    assert view.table.rowCount() >= 1
    assert "due today" in view.heading.text()
    ui_services.ctx.clock = lambda: case.created_at + timedelta(days=3)
    view.refresh()
    assert "overdue" in view.heading.text()
    assert view.table.item(0, 0).text().startswith("Overdue since")
    with qtbot.waitSignal(view.case_selected) as blocker:
        view.table.cellDoubleClicked.emit(0, 0)
    assert blocker.args == [case.id]


def test_main_window_shows_today_and_the_report_action(window: MainWindow) -> None:
    assert window.today_dock.isVisible()
    from PySide6.QtWidgets import QMenu

    menus = {m.title(): m for m in window.menuBar().findChildren(QMenu)}
    texts = [a.text() for a in menus["&File"].actions()]
    assert "&Report a post…" in texts and "&Governors’ report…" in texts
    window.case_detail.show_tab("follow-up")
    assert window.case_detail.workflow_tab.isVisible()
