"""The retention review: closed cases due for review, legal holds, secure deletion, and SAR."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.access import Permission
from app.domain.dates import format_short_date, london_today
from app.domain.errors import CasebookError, ValidationError
from app.domain.records import Person
from app.domain.retention import RULE_PERIODS, RetentionItem, RetentionRules
from app.files import safe_file_name, save_user_file
from app.services.casebook import Services
from app.services.operations import OpResult
from app.ui.errors import refusals_shown, show_refusal
from app.ui.file_dialogs import save_file_name
from app.ui.operations import in_message_box
from app.ui.signals import AppSignals
from app.ui.views.case_form import OptionalDate

COLUMNS = ("Reference", "Title", "Closed", "Review date", "Why", "Legal hold")


class RetentionDialog(QDialog):
    """Closed cases whose review date has come; the head teacher decides what happens next."""

    def __init__(self, services: Services, signals: AppSignals, parent: QWidget | None = None):
        super().__init__(parent)
        self._services = services
        self._signals = signals
        self.items: list[RetentionItem] = []
        self.setWindowTitle("Retention review")
        self.resize(900, 460)
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.rules_button = QPushButton("Retention &periods…", self)
        self.rules_button.setToolTip("Change how long each kind of case is kept before review")
        self.rules_button.setEnabled(services.ctx.may(Permission.SETTINGS))
        self.rules_button.clicked.connect(self.edit_rules)
        self.rules_button.setAutoDefault(False)
        heading = QHBoxLayout()
        heading.addWidget(self.intro, 1)
        heading.addWidget(self.rules_button, 0, Qt.AlignmentFlag.AlignTop)
        self.show_all = QCheckBox("&Show every closed case, not only those due", self)
        self.show_all.toggled.connect(lambda _on: self.refresh())
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setAccessibleName("Cases due for review")
        self.table.setTabKeyNavigation(False)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = QLabel("No closed case is due for review.", self)
        self.hold_button = QPushButton("Set &legal hold…", self)
        self.lift_button = QPushButton("L&ift legal hold…", self)
        self.dob_button = QPushButton("Child’s &date of birth…", self)
        self.delete_button = QPushButton("Dele&te case…", self)
        self.hold_button.clicked.connect(self.set_hold)
        self.lift_button.clicked.connect(self.lift_hold)
        self.dob_button.clicked.connect(self.set_dob)
        self.delete_button.clicked.connect(self.delete_case)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        buttons = QHBoxLayout()
        for button in (self.hold_button, self.lift_button, self.dob_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(heading)
        layout.addWidget(self.show_all)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self.refresh()

    def refresh(self) -> None:
        """Reload the rules and the list from the casebook."""
        retention = self._services.retention
        rules = retention.rules()
        self.intro.setText(
            f"Closed cases are reviewed {rules.review_after_years} years after closing; "
            f"safeguarding cases are kept until the child is {rules.safeguarding_until_age} "
            f"(or {rules.safeguarding_without_dob_years} years after closing when the child’s "
            "date of birth is not recorded). Nothing is deleted unless you choose to delete it."
        )
        self.items = (
            retention.schedule() if self.show_all.isChecked() else retention.due_for_review()
        )
        self.table.setRowCount(len(self.items))
        for row, item in enumerate(self.items):
            values = (
                item.reference,
                item.title,
                format_short_date(item.closed_on),
                format_short_date(item.due_on),
                item.review.text,
                item.legal_hold,
            )
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                cell.setToolTip(value)
                self.table.setItem(row, column, cell)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(1, min(self.table.columnWidth(1), 240))
        self.empty.setVisible(not self.items)
        self.empty.setText(
            "No case is closed yet."
            if self.show_all.isChecked()
            else "No closed case is due for review."
        )
        self._update_buttons()

    def edit_rules(self) -> None:
        """Change the retention periods; the list follows the new periods at once."""
        dialog = RetentionRulesDialog(self._services, self)
        if dialog.exec():
            self.refresh()

    def selected(self) -> RetentionItem | None:
        """The highlighted case, if any."""
        row = self.table.currentRow()
        return self.items[row] if 0 <= row < len(self.items) else None

    def _update_buttons(self) -> None:
        item = self.selected()
        self.hold_button.setEnabled(item is not None and not item.legal_hold)
        self.lift_button.setEnabled(item is not None and bool(item.legal_hold))
        self.dob_button.setEnabled(item is not None)
        self.delete_button.setEnabled(item is not None and not item.legal_hold)

    def _ask_reason(self, title: str, label: str) -> str | None:
        text, ok = QInputDialog.getText(self, title, label)
        return text if ok else None

    def _perform(self, command: Callable[[], OpResult[Any]]) -> None:
        done = self._signals.runner.perform(
            command, initiator="retention", on_refused=in_message_box(self)
        )
        if done is not None:
            self.refresh()

    def set_hold(self) -> None:
        item = self.selected()
        if item is None:
            return
        reason = self._ask_reason("Legal hold", f"Why must {item.reference} be kept?")
        if reason is None:
            return
        self._perform(lambda: self._services.operations.set_legal_hold(item.case_id, reason))

    def lift_hold(self) -> None:
        item = self.selected()
        if item is None:
            return
        reason = self._ask_reason(
            "Lift legal hold", f"Why may {item.reference} follow its review date again?"
        )
        if reason is None:
            return
        self._perform(lambda: self._services.operations.clear_legal_hold(item.case_id, reason))

    def set_dob(self) -> None:
        item = self.selected()
        if item is None:
            return
        with refusals_shown(self):
            current = self._services.retention.child_date_of_birth(item.case_id)
            age = self._services.retention.rules().safeguarding_until_age
            dialog = DateOfBirthDialog(item.reference, current, self, keep_until_age=age)
            if dialog.exec():
                dob = dialog.value()
                self._perform(
                    lambda: self._services.operations.set_child_date_of_birth(item.case_id, dob)
                )

    def delete_case(self) -> None:
        item = self.selected()
        if item is None:
            return
        reason = self._ask_reason(
            "Delete case", f"Why is {item.reference} being deleted? (kept in the deletion record)"
        )
        if reason is None:
            return
        answer = QMessageBox.warning(
            self,
            "Delete case",
            f"Delete {item.reference} with its evidence, letters, chronology and the people "
            "linked to no other case? This cannot be undone; only a record of the deletion "
            "is kept.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._perform(lambda: self._services.operations.delete_case(item.case_id, reason))


class DateOfBirthDialog(QDialog):
    """The date of birth of the child a safeguarding case concerns (or none)."""

    def __init__(
        self,
        reference: str,
        current: date | None,
        parent: QWidget | None = None,
        *,
        keep_until_age: int = RetentionRules().safeguarding_until_age,
    ):
        super().__init__(parent)
        self.setWindowTitle("Child’s date of birth")
        # The case form's date: an unknown date of birth shows blank, not a made-up one.
        self.born = OptionalDate("Not &known", self)
        today = london_today()
        self.born.set_date(current or date(today.year - 8, today.month, 1))
        self.born.none.setChecked(current is None)
        self.edit = self.born.edit
        self.none = self.born.none
        self.edit.setAccessibleName("Date of birth")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        label = QLabel(
            f"Date of birth of the child {reference} concerns; a safeguarding case is kept "
            f"until the child is {keep_until_age}.",
            self,
        )
        label.setWordWrap(True)
        layout.addWidget(label)
        layout.addWidget(self.born)
        layout.addWidget(buttons, 0, Qt.AlignmentFlag.AlignRight)

    def value(self) -> date | None:
        """The chosen date, or None when not known."""
        return self.born.date_value()


class RetentionRulesDialog(QDialog):
    """The head teacher's retention periods (and how many backups are kept), in whole years."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.setWindowTitle("Retention periods")
        self.saved: RetentionRules | None = None
        rules = services.retention.rules()
        self.spins: dict[str, QSpinBox] = {}
        form = QFormLayout()
        wording = {
            "review_after_years": ("Review closed cases", "years after closing"),
            "safeguarding_until_age": ("Keep safeguarding cases until the child is", "years old"),
            "safeguarding_without_dob_years": (
                "Without the child’s date of birth, review them",
                "years after closing",
            ),
        }
        for period in RULE_PERIODS:
            label, suffix = wording[period.name]
            spin = self._spin(period.minimum, period.maximum, getattr(rules, period.name), suffix)
            spin.setToolTip(f"From {period.minimum} to {period.maximum}")
            self.spins[period.name] = spin
            form.addRow(label, spin)
        cases = QGroupBox("Closed cases", self)
        cases.setLayout(form)
        note = QLabel(
            "A case whose time has come appears on the review list; nothing is deleted "
            "automatically. Safeguarding records are usually kept until the child is 25.",
            self,
        )
        note.setWordWrap(True)

        self.backups: QGroupBox | None = None
        self.keep_backups: QSpinBox | None = None
        self.warn_days: QSpinBox | None = None
        if services.ctx.may(Permission.BACKUP):
            backups = services.backups
            self.keep_backups = self._spin(1, 1000, backups.keep_count(), "backups")
            self.warn_days = self._spin(1, 365, backups.warn_after_days(), "days")
            backup_form = QFormLayout()
            backup_form.addRow("Keep the newest", self.keep_backups)
            backup_form.addRow("Remind me when the last backup is older than", self.warn_days)
            self.backups = QGroupBox("Backups", self)
            self.backups.setLayout(backup_form)

        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #a61b1b;")
        self.error.setVisible(False)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(cases)
        layout.addWidget(note)
        if self.backups is not None:
            layout.addWidget(self.backups)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _spin(self, low: int, high: int, value: int, suffix: str) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(low, high)
        spin.setValue(value)
        if suffix:
            spin.setSuffix(f" {suffix}")
        spin.setMinimumWidth(150)
        return spin

    def rules(self) -> RetentionRules:
        """The periods as the spin boxes show them."""
        return RetentionRules(**{name: spin.value() for name, spin in self.spins.items()})

    def save(self) -> None:
        """Save through the service; a period it refuses is named here and nothing is saved."""
        try:
            self.saved = self._services.retention.save_rules(self.rules())
            if self.keep_backups is not None and self.warn_days is not None:
                backups = self._services.backups
                keep, warn = self.keep_backups.value(), self.warn_days.value()
                if (keep, warn) != (backups.keep_count(), backups.warn_after_days()):
                    backups.set_policy(keep=keep, warn_after_days=warn)
        except ValidationError as error:
            self.error.setText(error.message)
            self.error.setVisible(True)
            self.adjustSize()  # room for the sentence, without squeezing the spin boxes
            if error.field in self.spins:
                self.spins[error.field].setFocus()
            return
        except CasebookError as error:
            show_refusal(self, error)
            return
        self.accept()


class SubjectAccessRequestDialog(QDialog):
    """Record a subject access request: when it came in and how identity was checked."""

    def __init__(self, name: str, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Subject access request")
        form = QFormLayout(self)
        form.addRow(
            QLabel(
                f"Record the request from {name}. The response is due one calendar "
                "month after it was received.",
                self,
            )
        )
        self.received = QDateEdit(self)
        self.received.setDisplayFormat("dd/MM/yyyy")
        self.received.setCalendarPopup(True)
        self.received.setDate(QDate(today.year, today.month, today.day))
        self.received.setMaximumDate(QDate(today.year, today.month, today.day))
        self.identity = QLineEdit(self)
        self.identity.setPlaceholderText("for example: passport seen at the office")
        form.addRow("&Received on", self.received)
        form.addRow("&Identity checked by", self.identity)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def received_on(self) -> date:
        day = self.received.date().toPython()
        assert isinstance(day, date)
        return day


def export_subject_access(parent: QWidget, services: Services, person: Person) -> Path | None:
    """Record the person's request (if not yet recorded), then save the response as a zip."""
    requests = services.subject_access
    with refusals_shown(parent):
        request = requests.open_request_for(person.id)
        if request is None:
            ask = SubjectAccessRequestDialog(person.name, london_today(services.ctx.now()), parent)
            if not ask.exec():
                return None
            request = requests.record_request(person.id, ask.received_on(), ask.identity.text())
    if request is None:
        return None
    with refusals_shown(parent):
        draft = requests.respond(request.id, mark_answered=False)
        review = draft.counts()["to_review"]
        if review:
            listed = "\n".join(f"• {r['case']} {r['item']}" for r in review)
            check = QMessageBox(parent)
            check.setWindowTitle("Subject access response")
            check.setText(
                f"{len(review)} exhibit(s) may show other people and have not been redacted "
                f"for {person.name}:\n\n{listed}\n\nRedact them for this person first (Redact… "
                "on the Evidence tab), or send the response without them; they will be listed "
                "as withheld, with the ground."
            )
            later = check.addButton("Redact them first", QMessageBox.ButtonRole.RejectRole)
            check.addButton("Send without them", QMessageBox.ButtonRole.AcceptRole)
            check.exec()
            if check.clickedButton() is later:
                return None
    suggested = safe_file_name(f"Subject access - {person.name}.zip")
    path = save_file_name(
        parent, "subject access", "Subject access response", suggested, "Zip files (*.zip)"
    )
    if not path:
        return None
    with refusals_shown(parent):
        export = requests.respond(request.id)
        target = Path(path)
        save_user_file(target, export.zip_bytes)
        withheld = export.response.withheld
        lines = [f"Saved the response to {person.name}’s request to {target.name}."]
        lines.append(
            f"{export.exhibits_included} of {export.exhibits_included + export.exhibits_withheld} "
            "exhibits are included (redacted for this person)."
        )
        if withheld:
            lines.append(
                f"{export.response.withheld_count} item(s) withheld: "
                + "; ".join(w.detail for w in withheld)
            )
            lines.append("Review the withheld exhibits and redact them for this person.")
        if not request.identity_checked:
            lines.append("The requester’s identity is not recorded as checked.")
        QMessageBox.information(parent, "Subject access response", "\n\n".join(lines))
        return target
    return None
