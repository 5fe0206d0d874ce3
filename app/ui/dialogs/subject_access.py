"""Subject access requests: every request with its deadline, and the steps on one.

The head (or DSL) sees which requests are open and when each is due, records how the
requester's identity was checked, extends the time for a complex request (within the
first month, with the reason), and prepares the response. The response itself is made
by :func:`app.ui.dialogs.retention.export_subject_access`, as from a person on a case.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_short_date, london_today
from app.domain.subject_access import SubjectAccessRequest
from app.services.casebook import Services
from app.ui.errors import refusals_shown
from app.ui.widgets import fit_to_screen, read_only_table, tab_moves_on

COLUMNS = ("Requester", "Received", "Identity checked", "Due", "Answered")
_OVERDUE = QColor("#b3261e")


def _date(day: date | None) -> str:
    return format_short_date(day) if day else ""


def status_of(request: SubjectAccessRequest, today: date) -> str:
    """How a request stands today, in the office's words."""
    if not request.open:
        return f"Answered {format_short_date(request.responded_on)}" if request.responded_on else ""
    days = (request.deadline - today).days
    if days < 0:
        return f"Overdue by {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "Due today"
    return f"{days} day{'s' if days != 1 else ''} left"


class SubjectAccessRequestsDialog(QDialog):
    """Administration ▸ Subject access requests."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Subject access requests")
        self.requests: list[SubjectAccessRequest] = []

        intro = QLabel(
            "A person may ask for the information the school holds about them. The response "
            "is due one calendar month after the request (or after their identity was "
            "checked), and may be extended by up to two months for a complex request.",
            self,
        )
        intro.setWordWrap(True)
        self.open_only = QCheckBox("Show &only requests still to answer", self)
        self.open_only.setChecked(True)
        self.open_only.toggled.connect(self.refresh)

        self.table = read_only_table([*COLUMNS, "Now"], self)
        self.table.setAccessibleName("Subject access requests")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _index: self.prepare_response())

        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.identity_button = QPushButton("Record &identity check…", self)
        self.identity_button.clicked.connect(self.record_identity)
        self.extend_button = QPushButton("&Extend the time…", self)
        self.extend_button.clicked.connect(self.extend)
        self.respond_button = QPushButton("&Prepare the response…", self)
        self.respond_button.clicked.connect(self.prepare_response)
        actions = QHBoxLayout()
        for button in (self.identity_button, self.extend_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.respond_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.open_only)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(actions)
        layout.addWidget(close)
        self.resize(760, 460)
        fit_to_screen(self)
        self.refresh()

    def refresh(self) -> None:
        """List the requests, soonest deadline first; overdue ones in red."""
        today = london_today(self.services.ctx.now())
        with refusals_shown(self):
            self.requests = self.services.subject_access.requests(
                open_only=self.open_only.isChecked()
            )
        self.table.setRowCount(len(self.requests))
        for row, request in enumerate(self.requests):
            due = _date(request.deadline)
            if request.extended_to is not None:
                due += " (extended)"
            cells = (
                request.requester_name,
                _date(request.received_on),
                _date(request.identity_checked_on) or "Not yet",
                due,
                _date(request.responded_on),
                status_of(request, today),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if request.open and request.deadline < today:
                    item.setForeground(QBrush(_OVERDUE))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        if self.requests:
            self.table.selectRow(0)
        self._update_buttons()

    def selected(self) -> SubjectAccessRequest | None:
        rows = self.table.selectionModel().selectedRows()
        return self.requests[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        request = self.selected()
        is_open = request is not None and request.open
        self.identity_button.setEnabled(is_open)
        self.extend_button.setEnabled(is_open and request is not None and not request.extended_to)
        self.respond_button.setEnabled(is_open and request is not None and bool(request.person_id))
        if request is None:
            self.details.setText("No requests to show.")
            return
        lines = [f"Recorded by {request.recorded_by}."]
        if request.identity_note:
            lines.append(f"Identity: {request.identity_note}.")
        if request.extended_to is not None:
            lines.append(
                f"Extended from {_date(request.due_on)} to {_date(request.extended_to)}: "
                f"{request.extension_reason}"
            )
        if request.person_id is None:
            lines.append("The person’s record has since been deleted.")
        self.details.setText(" ".join(lines))

    def record_identity(self) -> None:
        """Record how the requester's identity was checked."""
        request = self.selected()
        if request is None:
            return
        ask = _IdentityDialog(request.requester_name, self)
        if not ask.exec():
            return
        with refusals_shown(self):
            self.services.subject_access.record_identity(request.id, ask.note.text())
            self.refresh()

    def extend(self) -> None:
        """Extend the time by one or two months, with the reason."""
        request = self.selected()
        if request is None:
            return
        ask = _ExtendDialog(request.requester_name, self)
        if not ask.exec():
            return
        with refusals_shown(self):
            self.services.subject_access.extend(request.id, ask.months(), ask.reason())
            self.refresh()

    def prepare_response(self) -> None:
        """Make the response for the selected request, as from the person on a case."""
        from app.ui.dialogs.retention import export_subject_access

        request = self.selected()
        if request is None or not request.open or request.person_id is None:
            return
        with refusals_shown(self):
            person = self.services.people.get_person(request.person_id)
        if export_subject_access(self, self.services, person) is not None:
            self.refresh()


class _IdentityDialog(QDialog):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Identity check")
        form = QFormLayout(self)
        form.addRow(QLabel(f"How was {name}’s identity checked?", self))
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("for example: passport seen at the office")
        form.addRow("&Checked by", self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class _ExtendDialog(QDialog):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Extend the time")
        form = QFormLayout(self)
        form.addRow(
            QLabel(
                f"Extend the time for {name}’s request. Tell them within the first month, "
                "with the reason.",
                self,
            )
        )
        self.length = QComboBox(self)
        self.length.addItem("By one month", 1)
        self.length.addItem("By two months", 2)
        self.reason_edit = QPlainTextEdit(self)
        tab_moves_on(self.reason_edit)
        self.reason_edit.setAccessibleName("Reason for the extension")
        form.addRow("&Extend", self.length)
        form.addRow("&Reason", self.reason_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def months(self) -> int:
        return int(self.length.currentData())

    def reason(self) -> str:
        return self.reason_edit.toPlainText()
