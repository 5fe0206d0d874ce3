"""The case screen's Follow-up tab: checklist, re-checks, calls and meetings, escalation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.categories import Category
from app.domain.dates import LONDON, format_date_time, to_london
from app.domain.policy import (
    GONE_OUTCOMES,
    OUTCOME_LABELS,
    STEP_OUTCOME_LABELS,
    CaseOutcome,
    Contact,
    LadderStep,
    StepOutcome,
)
from app.domain.status import CaseStatus, allowed_transitions
from app.services.casebook import Services
from app.services.operations import OpChanges, OpResult
from app.services.workflow import CONTACT_LABELS, ChecklistItem, ContactKind
from app.ui.errors import refusals_shown
from app.ui.operations import Pending, in_message_box
from app.ui.signals import AppSignals
from app.ui.widgets import roomy_labels, tab_moves_on

OVERDUE = QColor("#a4262c")


@dataclass(frozen=True)
class ContactDraft:
    """A note, call or meeting typed on a case but not yet added to its chronology."""

    kind: str
    when: QDateTime
    present: str
    summary: str


def _qt_to_utc(value: QDateTime) -> datetime:
    local = value.toPython()
    assert isinstance(local, datetime)
    return local.replace(tzinfo=LONDON)


class WorkflowTab(QWidget):
    """What the case needs next, ticked off as it is done; every change is on record."""

    def __init__(
        self, services: Services, signals: AppSignals, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.signals = signals
        self.case_id: int | None = None
        self.items: list[ChecklistItem] = []
        # The case screen says which standards the case has (reading the case again here
        # would put a second "view case" on the audit trail for one look at a case).
        self.categories: frozenset[Category] = frozenset()
        self._filling = False

        self.checklist = QListWidget(self)
        self.checklist.itemChanged.connect(self._item_changed)
        self.checklist.setAccessibleName("Checklist")
        self.checklist.setAccessibleDescription("Press Space to tick an action as done")
        checklist_box = QGroupBox("Checklist", self)
        QVBoxLayout(checklist_box).addWidget(self.checklist)

        self.still_up = QPushButton("Re-checked: st&ill up", self)
        self.gone = QPushButton("&Re-checked: gone", self)
        self.still_up.clicked.connect(lambda: self.recheck(True))
        self.gone.clicked.connect(lambda: self.recheck(False))
        recheck_row = QHBoxLayout()
        recheck_row.addWidget(self.still_up)
        recheck_row.addWidget(self.gone)
        recheck_row.addStretch(1)

        self.position = QLabel(self)
        self.position.setWordWrap(True)
        self.steps = QLabel(self)
        self.steps.setWordWrap(True)
        self.step_choice = QComboBox(self)
        self.step_choice.setAccessibleName("Escalation step")
        self.step_outcome = QComboBox(self)
        self.step_outcome.setAccessibleName("Outcome of the step")
        for outcome in StepOutcome:
            self.step_outcome.addItem(STEP_OUTCOME_LABELS[outcome], outcome.value)
        self.step_button = QPushButton("Recor&d step", self)
        self.step_button.clicked.connect(self.record_step)
        step_row = QHBoxLayout()
        step_row.addWidget(self.step_choice, 2)
        step_row.addWidget(self.step_outcome, 1)
        step_row.addWidget(self.step_button)
        # A report to a platform or helpline: when it was made and the reference it gave.
        self.step_when = QDateTimeEdit(self)
        self.step_when.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.step_when.setCalendarPopup(True)
        self.step_when.setAccessibleName("When the step was taken")
        self.step_reference = QLineEdit(self)
        self.step_reference.setPlaceholderText("Reference number given (if any)")
        self.step_reference.setAccessibleName("Reference number of the report")
        detail_row = QHBoxLayout()
        detail_row.addWidget(QLabel("Taken", self))
        detail_row.addWidget(self.step_when)
        detail_row.addWidget(self.step_reference, 1)
        self.step_contact = QLabel(self)
        self.step_contact.setWordWrap(True)
        self.step_contact.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.step_contact.setStyleSheet("color:#333; background:#f3f6fa; padding:4px;")
        self.edit_contact_button = QPushButton("Edit &contact…", self)
        self.edit_contact_button.setToolTip("Change the telephone number, email or website shown")
        self.edit_contact_button.clicked.connect(self.edit_contact)
        contact_row = QHBoxLayout()
        contact_row.addWidget(self.step_contact, 1)
        contact_row.addWidget(self.edit_contact_button, 0, Qt.AlignmentFlag.AlignTop)
        self.step_choice.currentIndexChanged.connect(self._step_chosen)
        self.outcome = QLabel(self)
        self.outcome_choice = QComboBox(self)
        self.outcome_choice.setAccessibleName("Outcome of the case")
        for case_outcome in CaseOutcome:
            self.outcome_choice.addItem(OUTCOME_LABELS[case_outcome], case_outcome.value)
        self.outcome_button = QPushButton("Record ou&tcome", self)
        self.outcome_button.clicked.connect(self.record_outcome)
        outcome_row = QHBoxLayout()
        outcome_row.addWidget(self.outcome, 2)
        outcome_row.addWidget(self.outcome_choice, 1)
        outcome_row.addWidget(self.outcome_button)
        escalation_box = QGroupBox("Escalation", self)
        escalation_layout = QVBoxLayout(escalation_box)
        escalation_layout.addWidget(self.position)
        escalation_layout.addWidget(self.steps)
        escalation_layout.addLayout(step_row)
        escalation_layout.addLayout(detail_row)
        escalation_layout.addLayout(contact_row)
        escalation_layout.addLayout(outcome_row)

        self.contact_kind = QComboBox(self)
        for kind in ContactKind:
            self.contact_kind.addItem(CONTACT_LABELS[kind], kind.value)
        self.contact_when = QDateTimeEdit(self)
        self.contact_when.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.contact_when.setCalendarPopup(True)
        self.contact_present = QLineEdit(self)
        self.contact_present.setPlaceholderText("Names, separated by commas")
        self.contact_summary = QPlainTextEdit(self)
        tab_moves_on(self.contact_summary)
        self.contact_summary.setPlaceholderText("What was said or agreed")
        self.contact_summary.setFixedHeight(70)
        self.contact_button = QPushButton("Add to chrono&logy", self)
        self.contact_button.clicked.connect(self.record_contact)
        contact_box = QGroupBox("Note, phone call or meeting", self)
        form = QFormLayout(contact_box)
        form.addRow("&Kind", self.contact_kind)
        form.addRow("&When", self.contact_when)
        form.addRow("&Present", self.contact_present)
        form.addRow("S&ummary", self.contact_summary)
        form.addRow("", self.contact_button)

        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.addWidget(checklist_box, 2)
        layout.addLayout(recheck_row)
        layout.addWidget(escalation_box)
        layout.addWidget(contact_box)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._drafts: Pending[ContactDraft] = Pending()
        signals.operation_did_execute.connect(self._changed)
        self.set_case(None)

    # ----- reading ------------------------------------------------------------------------

    def _changed(self, changes: OpChanges) -> None:
        ours = self.case_id is not None and changes.touches(self.case_id)
        if ours and (changes.workflow or changes.chronology or changes.cases):
            self.refresh()

    def set_categories(self, categories: frozenset[Category]) -> None:
        """The standards of the case shown; the escalation steps offered follow them."""
        if categories != self.categories:
            self.categories = frozenset(categories)
            if self.case_id is not None:
                self.refresh()

    def set_case(self, case_id: int | None, categories: frozenset[Category] = frozenset()) -> None:
        """Show the workflow of this case (None: nothing selected).

        A note typed but not yet added stays with its own case: it comes back when that
        case is shown again, and is never added to the case shown next.
        """
        if case_id != self.case_id:
            self._keep_draft()
        changed = case_id != self.case_id
        self.case_id = case_id
        self.categories = frozenset(categories)
        self.setEnabled(case_id is not None)
        self.refresh()
        if changed:
            self._restore_draft()

    def refresh(self) -> None:
        """Read the checklist, escalation and outcome again."""
        self._filling = True
        self.checklist.clear()
        self.items = []
        self._filling = False
        if self.case_id is None:
            self.position.setText("")
            self.steps.setText("")
            self.outcome.setText("")
            return
        workflow = self.services.workflow
        self.items = workflow.checklist(self.case_id)
        self._filling = True
        for item in self.items:
            text = item.label
            if item.done_at is not None:
                text += f"  — done {format_date_time(item.done_at)} by {item.done_by}"
            elif item.letter_prepared:
                text += "  — letter prepared, not yet sent (mark it sent on the Letters tab)"
                if item.overdue:
                    text += f"; OVERDUE since {format_date_time(item.due_at)}"
            elif item.overdue:
                text += f"  — OVERDUE since {format_date_time(item.due_at)}"
            else:
                text += f"  — due {format_date_time(item.due_at)}"
            row = QListWidgetItem(text)
            row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            row.setCheckState(Qt.CheckState.Checked if item.done else Qt.CheckState.Unchecked)
            if item.overdue:
                row.setForeground(QBrush(OVERDUE))
            row.setData(Qt.ItemDataRole.UserRole, item.id)
            self.checklist.addItem(row)
        self._filling = False
        escalation = workflow.escalation(self.case_id)
        text = escalation.position.describe()
        if escalation.position.next_due is not None:
            text += f" It falls due {format_date_time(escalation.position.next_due)}."
        self.position.setText(text)
        self.steps.setText(
            "\n".join(
                f"{format_date_time(s.taken_at)}  {s.label}: {STEP_OUTCOME_LABELS[s.outcome]}"
                + (f" (reference {s.reference})" if s.reference else "")
                for s in escalation.steps
            )
        )
        self.step_choice.blockSignals(True)
        self.step_choice.clear()
        self.ladder = {step.id: step for step in workflow.policy().ladder}
        for step in self.ladder.values():
            if step.applies_to(self.categories):
                self.step_choice.addItem(step.label, step.id)
        self.step_choice.blockSignals(False)
        if escalation.position.next is not None:
            index = self.step_choice.findData(escalation.position.next.id)
            self.step_choice.setCurrentIndex(max(index, 0))
        now = to_london(self.services.ctx.now())
        self.step_when.setDateTime(
            QDateTime(QDate(now.year, now.month, now.day), QTime(now.hour, now.minute))
        )
        self.step_reference.clear()
        self._step_chosen()
        outcome = workflow.outcome(self.case_id)
        self.outcome.setText(
            f"Outcome: {outcome.label} ({format_date_time(outcome.outcome_at)})"
            if outcome
            else "No outcome recorded yet."
        )
        if not self.contact_summary.toPlainText().strip():
            self.contact_when.setDateTime(QDateTime.currentDateTime())

    # ----- changing -----------------------------------------------------------------------

    def _perform(self, command: Callable[[], OpResult[Any]]) -> Any:
        return self.signals.runner.perform(
            command, initiator="follow-up tab", on_refused=in_message_box(self)
        )

    def _item_changed(self, row: QListWidgetItem) -> None:
        if self._filling or self.case_id is None:
            return
        case_id = self.case_id
        action_id = int(row.data(Qt.ItemDataRole.UserRole))
        operations = self.services.operations
        done = row.checkState() == Qt.CheckState.Checked
        result = self._perform(
            (lambda: operations.tick(case_id, action_id))
            if done
            else (lambda: operations.untick(case_id, action_id))
        )
        if result is None:
            self.refresh()  # put the box back as it was

    def recheck(self, still_up: bool) -> None:
        """Record a re-check of the post (evidence of removal is added on the Evidence tab)."""
        if self.case_id is None:
            return
        case_id = self.case_id
        resolve = False
        if not still_up:
            asked = self._offer_to_resolve(case_id, "The post has gone.")
            if asked is None:
                return
            resolve = asked
        result = self.signals.runner.perform(
            lambda: self.services.operations.recheck(case_id, still_up, resolve=resolve),
            initiator="follow-up tab",
            on_refused=in_message_box(self),
        )
        if result is None:
            return
        self.signals.status_message.emit(
            "Re-check recorded." if still_up else "Recorded that the post has gone."
        )

    def _chosen_step(self) -> LadderStep | None:
        step_id = self.step_choice.currentData()
        return getattr(self, "ladder", {}).get(str(step_id)) if step_id else None

    def _step_chosen(self) -> None:
        """Show who the chosen step contacts, and ask for a reference where it is a report."""
        step = self._chosen_step()
        contact = step.contact if step else None
        self.step_contact.setText("\n".join(contact.lines()) if contact else "")
        self.step_contact.setVisible(contact is not None)
        self.edit_contact_button.setVisible(contact is not None)
        self.step_reference.setEnabled(bool(step and step.records_reference))

    def edit_contact(self) -> None:
        """Change the contact details of the chosen step (kept in the school's policy)."""
        step = self._chosen_step()
        if step is None or step.contact is None:
            return
        dialog = ContactDialog(step.label, step.contact, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        with refusals_shown(self):
            self.services.workflow.save_contact(step.id, dialog.contact())
            self.signals.status_message.emit("Contact details saved.")
        self.refresh()

    def record_step(self) -> None:
        if self.case_id is None or self.step_choice.currentIndex() < 0:
            return
        step = self._chosen_step()
        case_id = self.case_id
        step_id = str(self.step_choice.currentData())
        outcome = StepOutcome(str(self.step_outcome.currentData()))
        when = _qt_to_utc(self.step_when.dateTime())
        reference = (
            self.step_reference.text() if step is not None and step.records_reference else ""
        )
        self._perform(
            lambda: self.services.operations.take_step(
                case_id, step_id, outcome, when=when, reference=reference
            )
        )

    def record_outcome(self) -> None:
        if self.case_id is None:
            return
        case_id = self.case_id
        outcome = CaseOutcome(str(self.outcome_choice.currentData()))
        resolve = False
        if outcome in GONE_OUTCOMES:
            asked = self._offer_to_resolve(
                case_id, f"The outcome is '{OUTCOME_LABELS[outcome]}': the post has gone."
            )
            if asked is None:
                return
            resolve = asked
        self._perform(
            lambda: self.services.operations.set_outcome(case_id, outcome, resolve=resolve)
        )

    def _offer_to_resolve(self, case_id: int, why: str) -> bool | None:
        """Ask whether to resolve the case too: True, False, or None when cancelled.

        Not asked (False) when the case's status cannot move to Resolved.
        """
        status = self.services.cases.get_case(case_id).status
        if CaseStatus.RESOLVED not in allowed_transitions(status):
            return False
        answer = QMessageBox.question(
            self,
            "Resolve the case?",
            f"{why} Mark the case as Resolved as well?",
            QMessageBox.StandardButton.Yes
            | QMessageBox.StandardButton.No
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Yes,
        )
        if answer == QMessageBox.StandardButton.Cancel:
            return None
        return answer == QMessageBox.StandardButton.Yes

    def record_contact(self) -> None:
        if self.case_id is None:
            return
        case_id = self.case_id
        present = [p.strip() for p in self.contact_present.text().split(",") if p.strip()]
        kind = ContactKind(str(self.contact_kind.currentData()))
        summary = self.contact_summary.toPlainText()
        when = _qt_to_utc(self.contact_when.dateTime())
        saved = self.signals.runner.perform(
            lambda: self.services.operations.record_contact(
                case_id, kind, summary, when=when, present=present
            ),
            initiator="follow-up tab",
            on_refused=in_message_box(self),
        )
        if saved is not None:
            self.contact_summary.clear()
            self.contact_present.clear()
            self._drafts.take(case_id)

    # ----- unsaved notes belong to their case ----------------------------------------------

    def _draft(self) -> ContactDraft | None:
        summary = self.contact_summary.toPlainText()
        present = self.contact_present.text()
        if not summary.strip() and not present.strip():
            return None
        return ContactDraft(
            str(self.contact_kind.currentData()), self.contact_when.dateTime(), present, summary
        )

    def _keep_draft(self) -> None:
        self._drafts.keep(self.case_id, self._draft())

    def _restore_draft(self) -> None:
        draft = self._drafts.get(self.case_id)
        self.contact_summary.setPlainText(draft.summary if draft else "")
        self.contact_present.setText(draft.present if draft else "")
        if draft is not None:
            self.contact_kind.setCurrentIndex(max(0, self.contact_kind.findData(draft.kind)))
            self.contact_when.setDateTime(draft.when)

    def unsaved_notes(self) -> list[int]:
        """Ids of the cases with a typed note, call or meeting not yet added."""
        self._keep_draft()
        return self._drafts.cases()

    def discard_unsaved_notes(self) -> None:
        for case_id in self._drafts.cases():
            self._drafts.take(case_id)
        self.contact_summary.clear()
        self.contact_present.clear()


class ContactDialog(QDialog):
    """The contact details of one ladder step, as the school keeps them."""

    def __init__(self, step_label: str, contact: Contact, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Contact details")
        intro = QLabel(f"Who to contact for: {step_label}")
        intro.setWordWrap(True)
        self.edits: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for key, label in (
            ("name", "&Name"),
            ("telephone", "&Telephone"),
            ("email", "&Email"),
            ("website", "&Website"),
            ("note", "N&ote"),
        ):
            edit = QLineEdit(getattr(contact, key), self)
            self.edits[key] = edit
            form.addRow(label, edit)
        roomy_labels(form)  # "Telephone" painted wider than measured at 150%
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(560, 0)

    def contact(self) -> Contact:
        """The details as typed."""
        return Contact(**{key: edit.text().strip() for key, edit in self.edits.items()})
