"""Administration ▸ Subject access requests under pytest-qt: deadlines, identity, extension."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtWidgets import QDialog, QLineEdit, QMessageBox, QPlainTextEdit

from app.services.casebook import Services
from app.ui.dialogs.subject_access import SubjectAccessRequestsDialog, status_of
from tests.conftest import Clock
from tests.retention.conftest import SUBJECT, Filled
from tests.ui.conftest import answer_next_dialog


def _fill_and_accept(texts: dict[type, str]) -> object:
    def act(dialog: object) -> None:
        assert isinstance(dialog, QDialog)
        for kind, text in texts.items():
            box = dialog.findChild(kind)
            if isinstance(box, QPlainTextEdit):
                box.setPlainText(text)
            else:
                box.setText(text)
        dialog.accept()

    return act


def test_requests_are_listed_with_their_deadlines_and_can_be_extended(
    qtbot, services: Services, filled: Filled, clock: Clock
) -> None:
    request = services.subject_access.record_request(filled.subject_id, date(2026, 11, 20))
    dialog = SubjectAccessRequestsDialog(services)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 0).text() == SUBJECT
    assert dialog.table.item(0, 1).text() == "20/11/2026"
    assert dialog.table.item(0, 2).text() == "Not yet"
    # A month from 20 November is Sunday 20 December: due the next working day.
    assert dialog.table.item(0, 3).text() == "21/12/2026"
    assert dialog.table.item(0, 5).text() == "27 days left"

    answer_next_dialog(_fill_and_accept({QLineEdit: "passport seen at the office"}))
    dialog.record_identity()
    assert services.subject_access.get(request.id).identity_checked
    assert "passport seen" in dialog.details.text()

    answer_next_dialog(_fill_and_accept({QPlainTextEdit: "Many exhibits to review."}))
    dialog.extend()
    extended = services.subject_access.get(request.id)
    assert extended.extended_to is not None and extended.extended_to > extended.due_on
    assert "(extended)" in dialog.table.item(0, 3).text()
    assert not dialog.extend_button.isEnabled()  # only one extension


def test_an_overdue_request_says_so_and_a_late_extension_is_refused(
    qtbot, services: Services, filled: Filled, clock: Clock
) -> None:
    services.subject_access.record_request(filled.subject_id, date(2026, 11, 20))
    clock.advance(days=40)
    dialog = SubjectAccessRequestsDialog(services)
    qtbot.addWidget(dialog)
    assert dialog.table.item(0, 5).text().startswith("Overdue by ")

    refusals: list[str] = []

    def answer(dialog: object) -> None:
        if isinstance(dialog, QMessageBox):
            refusals.append(dialog.text())
            dialog.accept()
            return
        _fill_and_accept({QPlainTextEdit: "Too late."})(dialog)
        answer_next_dialog(answer)  # the refusal that follows

    answer_next_dialog(answer)
    dialog.extend()
    assert "first month" in refusals[0]


def test_the_status_words() -> None:
    from app.domain.subject_access import SubjectAccessRequest

    today = date(2026, 12, 1)
    base = SubjectAccessRequest(
        id=1,
        person_id=1,
        requester_name="A",
        received_on=today - timedelta(days=10),
        identity_checked_on=None,
        identity_note="",
        due_on=today,
        extended_to=None,
        extension_reason="",
        responded_on=None,
        recorded_by="Head",
    )
    assert status_of(base, today) == "Due today"
    assert status_of(base, today + timedelta(days=1)) == "Overdue by 1 day"
    assert status_of(base, today - timedelta(days=1)) == "1 day left"
