"""Joined-up cases in the window: the case screen lists them and opens one; the
Report-a-post wizard shows them; the case list filters to frequent authors."""

from __future__ import annotations

import pytest

from app.services.casebook import Services
from app.ui.dialogs.report_wizard import ReportWizard
from app.ui.main_window import MainWindow


@pytest.mark.window_reads_only
def test_the_case_screen_lists_and_opens_other_cases(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    services = window.services
    first = services.cases.find_case("SM-2026-0001")
    assert window.case_list.select_case(first.id)
    window.case_detail.show_tab("people")
    related = window.case_detail.related_list
    assert related.isVisible()
    assert related.count() == 1
    assert related.item(0).text().startswith("SM-2026-0006 — Bullying allegation")
    assert "same person: Ola Łukasiewicz" in related.item(0).text()
    related.itemActivated.emit(related.item(0))
    assert window.case_detail.case is not None
    assert window.case_detail.case.reference == "SM-2026-0006"


def test_the_wizard_offers_cases_about_the_same_account(qtbot, demo_services: Services) -> None:  # type: ignore[no-untyped-def]
    wizard = ReportWizard(demo_services)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.title.setText("Another post")
    wizard.next()
    wizard.account.setText("@zoe.l.4")
    wizard.next()
    wizard.abusive.setChecked(True)
    wizard.next()
    assert wizard.related_label.isVisible()
    assert "SM-2026-0001" in wizard.related_label.text()
    assert "same account: @zoe.l.4" in wizard.related_label.text()


@pytest.mark.window_reads_only
def test_frequent_authors_filter(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.case_list.repeat_authors_only.setChecked(True)
    qtbot.waitUntil(lambda: window.case_list.model.rowCount() > 0)
    shown = window.case_list.model.rowCount()
    assert 0 < shown < 13
