"""In the window: the case file asks who it is for, and a redaction asks whom it is for."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, Qt

from app.domain.categories import Category
from app.domain.people import CaseRole
from app.domain.records import CaseDraft
from app.domain.sharing import RULES, Recipient
from app.services.casebook import Services
from app.ui.documents import CaseFileDialog
from app.ui.signals import AppSignals
from app.ui.views.evidence_tab import EvidenceTab
from tests.conftest import WAIT_MS
from tests.sharing.conftest import REPORTER, Planted, pdf_text, plain_picture


def test_the_export_dialog_offers_each_recipient_with_its_rule(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = CaseFileDialog("SM-2026-0001")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.recipient() is Recipient.AUTHOR  # the safe choice is the default
    assert dialog.rule.text() == RULES[Recipient.AUTHOR].rule
    labels = [b.text().replace("&", "") for b in dialog.choices.values()]
    assert labels[0] == "The head teacher (complete file)"
    assert any("designated officer" in t for t in labels)
    dialog.choices[Recipient.POLICE].click()
    assert dialog.recipient() is Recipient.POLICE
    assert "prevention or detection of crime" in dialog.rule.text()
    dialog.choices[None].click()
    assert dialog.recipient() is None and "head teacher" in dialog.rule.text()


def test_the_worker_makes_the_copy_for_the_chosen_recipient(
    qtbot, services: Services, planted: Planted
) -> None:  # type: ignore[no-untyped-def]
    signals = AppSignals()
    operations = services.operations
    operation = signals.runner.run(
        lambda progress, cancelled: operations.export_case_file(
            planted.case_id, recipient=Recipient.PLATFORM, progress=progress, cancelled=cancelled
        ),
        initiator="test",
    )
    with qtbot.waitSignal(operation.succeeded, timeout=None) as result:
        pass
    text = pdf_text(result.args[0])
    assert "Copy for the platform" in text and REPORTER not in text


@pytest.fixture
def tab(qtbot, services: Services) -> Iterator[EvidenceTab]:  # type: ignore[no-untyped-def]
    widget = EvidenceTab(services, AppSignals())
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    yield widget
    widget.wait_for_work()


def test_a_redaction_is_made_for_the_recipient_chosen(
    qtbot, tab: EvidenceTab, services: Services, planted: Planted
) -> None:  # type: ignore[no-untyped-def]
    case = services.cases.open_case(
        CaseDraft(title="Another post", categories=frozenset({Category.ABUSIVE}))
    )
    services.cases.link_person(case.id, planted.reporter_id, CaseRole.REPORTER)
    (added,) = services.evidence.add_bytes(case.id, [("x.png", plain_picture())])
    tab.set_case(case.id)
    qtbot.waitUntil(lambda: tab.current is not None, timeout=WAIT_MS)
    tab.redact_button.setChecked(True)
    choices = [tab.redact_for.itemText(i) for i in range(tab.redact_for.count())]
    assert choices[:3] == [
        "For the author of the post (or their solicitor)",
        "For the local authority designated officer (LADO)",
        "For the platform",
    ]
    assert f"For {REPORTER}’s subject access request" in choices
    tab.redact_for.setCurrentIndex(choices.index(f"For {REPORTER}’s subject access request"))
    view = tab.picture
    start = view.mapFromScene(QPointF(10, 10))
    end = view.mapFromScene(QPointF(60, 50))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), end)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    tab.save_redacted_button.click()
    (copy,) = services.evidence.redacted_copies(added.exhibit.id)
    assert copy.redacted_for == f"person:{planted.reporter_id}"
    assert services.evidence.redacted_copies(added.exhibit.id, "author") == []


def test_the_report_dialog_offers_the_schools_terms(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from app.domain.report_figures import parse_terms
    from app.ui.documents import ReportPeriodDialog

    terms = parse_terms(
        "Autumn 2026: 01/09/2026 to 18/12/2026\nSpring 2027: 05/01/2027 to 26/03/2027"
    )
    dialog = ReportPeriodDialog(date(2027, 2, 1), None, terms, 4)
    qtbot.addWidget(dialog)
    assert dialog.period() == (date(2026, 9, 1), date(2027, 2, 1))
    assert dialog.presets.count() == 3
    dialog.presets.setCurrentIndex(1)
    assert dialog.period() == (date(2026, 9, 1), date(2026, 12, 18))
    assert dialog.threshold.value() == 4


def test_the_window_asks_before_sending_a_response_with_exhibits_unredacted(
    qtbot, services: Services, planted: Planted, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

    from app.ui.dialogs.retention import export_subject_access
    from tests.ui.conftest import answer_next_dialog

    parent = QWidget()
    qtbot.addWidget(parent)
    person = services.people.get_person(planted.third_id)
    request = services.subject_access.record_request(planted.third_id, date(2026, 11, 23), "Seen")

    def press(label: str):  # type: ignore[no-untyped-def]
        def act(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            seen.append(box.text())
            (button,) = [b for b in box.buttons() if b.text() == label]
            button.click()

        return act

    seen: list[str] = []
    answer_next_dialog(press("Redact them first"))
    assert export_subject_access(parent, services, person) is None
    assert "3 exhibit(s) may show other people" in seen[0]
    assert services.subject_access.get(request.id).open  # nothing was sent

    target = tmp_path / "response.zip"
    # The system's save dialog cannot be driven here; it answers with this path.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    answer_next_dialog(press("Send without them"))
    answer_next_dialog(press("OK"), timeout_ms=400)
    assert export_subject_access(parent, services, person) == target
    assert target.exists() and services.subject_access.get(request.id).responded_on
    assert (
        "0 of 3 exhibits are included" in seen[-1] and "5 item(s) withheld" in seen[-1]
    )  # and 2 letters
