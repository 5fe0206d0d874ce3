"""The case screen's Letters tab: letters issued on the case, their preview, and actions."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_date_time, format_long_date, format_short_date, london_today
from app.domain.errors import CasebookError
from app.domain.letters import SEND_METHOD_LABELS, SendMethod
from app.domain.working_days import format_weekday_date
from app.files import safe_file_name, save_user_file
from app.services.casebook import Services
from app.services.operations import case_changes
from app.ui.file_dialogs import save_file_name
from app.ui.signals import AppSignals
from app.ui.views.pdf_preview import PdfPreview, print_pdf
from app.ui.widgets import read_only_table, roomy_labels

if TYPE_CHECKING:
    # The letters service is loaded when a letter is first made or listed.
    from app.services.letters import IssuedLetter

log = logging.getLogger(__name__)

COLUMNS = ("Date", "Letter", "To", "Sent", "Template")


class LettersTab(QWidget):
    """Lists the case's letters; issue, preview, print, save as PDF and export to Word."""

    def __init__(
        self, services: Services, signals: AppSignals, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.signals = signals
        self.case_id: int | None = None
        self.letters: list[IssuedLetter] = []

        self.table = read_only_table(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.table.setAccessibleName("Letters issued on the case")

        self.empty = QLabel("No letters have been issued on this case yet.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.issue_button = QPushButton("&Issue letter…")
        self.print_button = QPushButton("P&rint…")
        self.save_button = QPushButton("Save as &PDF…")
        self.docx_button = QPushButton("E&xport .docx…")
        self.email_button = QPushButton("Send b&y email…")
        self.email_button.clicked.connect(self.email_selected)
        self.sent_button = QPushButton("&Mark as sent…")
        self.sent_button.setToolTip(
            "Record how and when the letter left: printed and posted, handed over or emailed"
        )
        self.sent_button.clicked.connect(self.mark_selected_sent)
        self.issue_button.clicked.connect(self.issue_letter)
        self.print_button.clicked.connect(self.print_selected)
        self.save_button.clicked.connect(self.save_selected_pdf)
        self.docx_button.clicked.connect(self.export_selected_docx)

        buttons = QHBoxLayout()
        buttons.addWidget(self.issue_button)
        buttons.addWidget(self.sent_button)
        buttons.addStretch(1)
        for button in (self.email_button, self.print_button, self.save_button, self.docx_button):
            buttons.addWidget(button)

        self.preview = PdfPreview()
        self.preview.set_accessible_name("Letter preview")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.empty)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.preview)
        splitter.setSizes([520, 480])

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(splitter, 1)

        signals.data_changed.connect(self._data_changed)
        self.set_case(None)

    # ----- the case shown -----------------------------------------------------------

    def set_case(self, case_id: int | None) -> None:
        """Show the letters of this case (None shows nothing)."""
        self.case_id = case_id
        self.refresh()

    def _data_changed(self, case_id: int) -> None:
        if self.case_id is not None and case_id in (0, self.case_id):
            self.refresh()

    def refresh(self) -> None:
        """Reload the list from the casebook, keeping the selected letter when it still exists."""
        selected = self.selected_letter()
        self.letters = (
            self.services.letters.list_letters(self.case_id) if self.case_id is not None else []
        )
        self.table.setRowCount(len(self.letters))
        for row, letter in enumerate(self.letters):
            values = (
                format_short_date(letter.letter_date),
                letter.label,
                letter.recipient_name,
                sent_text(letter),
                letter.template_version,
            )
            tip = (
                f"{letter.subject}\nIssued by {letter.issued_by}, "
                f"{format_date_time(letter.issued_at)}"
                + (
                    f"\nQuotes the Code of Conduct, version {letter.code_version}"
                    if letter.code_version
                    else ""
                )
            )
            if letter.reply_by is not None:
                tip += f"\nReply by {format_weekday_date(letter.reply_by)}"
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(tip)
                self.table.setItem(row, column, item)
        self.empty.setVisible(not self.letters and self.case_id is not None)
        self.issue_button.setEnabled(self.case_id is not None)
        if self.letters:
            keep = [i for i, x in enumerate(self.letters) if selected and x.id == selected.id]
            # Selecting quietly: the preview below is read once (each read is on the audit trail).
            self.table.blockSignals(True)
            self.table.selectRow(keep[0] if keep else len(self.letters) - 1)
            self.table.blockSignals(False)
        self._show_selected()

    def selected_letter(self) -> IssuedLetter | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.letters):
            return None
        return self.letters[rows[0].row()]

    def _show_selected(self) -> None:
        letter = self.selected_letter()
        for button in (self.print_button, self.save_button, self.docx_button):
            button.setEnabled(letter is not None)
        self.email_button.setEnabled(letter is not None and not letter.is_sent)
        self.sent_button.setEnabled(letter is not None and not letter.is_sent)
        if letter is None:
            self.preview.set_pdf(b"")
            return
        try:
            self.preview.set_pdf(self.services.letters.letter_pdf(letter.id))
        except CasebookError as error:
            self.preview.set_pdf(b"")
            QMessageBox.warning(self, "The letter cannot be shown", error.message)

    # ----- actions ----------------------------------------------------------------------

    def issue_letter(self) -> None:
        if self.case_id is None:
            return
        from app.ui.dialogs.issue_letter import IssueLetterDialog  # loaded on first use

        dialog = IssueLetterDialog(self.services, self.case_id, self)
        if dialog.exec() == IssueLetterDialog.DialogCode.Accepted:
            issued = case_changes(self.case_id, cases=True, letters=True, workflow=True)
            self.signals.runner.announce(issued, "letters tab")
            self.signals.status_message.emit("Letter issued and recorded on the case.")

    def email_selected(self) -> None:
        """Send the selected letter from the school's mailbox (app/ui/dialogs/send_letter.py)."""
        from app.ui.dialogs.send_letter import send_letter_by_email

        letter = self.selected_letter()
        if letter is not None and send_letter_by_email(self.services, letter.id, self):
            self.signals.runner.announce(
                case_changes(letter.case_id, cases=True, letters=True, workflow=True),
                "letters tab",
            )
            self.signals.status_message.emit("Letter sent by email and recorded as sent.")

    def mark_selected_sent(self) -> None:
        """Ask how and when the selected letter left, and record it."""
        letter = self.selected_letter()
        if letter is None or letter.is_sent:
            return
        dialog = MarkSentDialog(letter, london_today(self.services.ctx.now()), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            sent = self.services.letters.mark_sent(letter.id, dialog.method(), dialog.sent_on())
        except CasebookError as error:
            QMessageBox.warning(self, "The letter was not marked as sent", error.message)
            return
        self.signals.runner.announce(
            case_changes(letter.case_id, cases=True, letters=True, workflow=True), "letters tab"
        )
        message = f"{sent.label} recorded as sent."
        if sent.reply_by is not None:
            message += f" Reply by {format_weekday_date(sent.reply_by)}."
        self.signals.status_message.emit(message)

    def print_selected(self) -> None:
        letter = self.selected_letter()
        if letter is not None:
            try:
                print_pdf(self.services.letters.letter_pdf(letter.id), self)
            except CasebookError as error:
                QMessageBox.warning(self, "The letter cannot be printed", error.message)

    def _suggested_name(self, letter: IssuedLetter, suffix: str) -> str:
        return safe_file_name(
            f"{letter.case_reference} {letter.kind.value} {letter.letter_date.isoformat()}{suffix}"
        )

    def save_selected_pdf(self, path: str | None = None) -> None:
        letter = self.selected_letter()
        if letter is None:
            return
        if not path:
            path = save_file_name(
                self,
                "letters",
                "Save letter as PDF",
                self._suggested_name(letter, ".pdf"),
                "PDF (*.pdf)",
            )
        if path:
            self._write(path, lambda: self.services.letters.letter_pdf(letter.id))

    def export_selected_docx(self, path: str | None = None) -> None:
        letter = self.selected_letter()
        if letter is None:
            return
        if not path:
            path = save_file_name(
                self,
                "letters",
                "Export letter for Word",
                self._suggested_name(letter, ".docx"),
                "Word document (*.docx)",
            )
        if path:
            self._write(path, lambda: self.services.letters.letter_docx(letter.id))

    def _write(self, path: str, make: object) -> None:
        try:
            data = make()  # type: ignore[operator]
            save_user_file(path, data)
        except CasebookError as error:
            QMessageBox.warning(self, "The file was not saved", error.message)
        except OSError as error:
            log.warning("Could not write %s: %s", path, error)
            QMessageBox.warning(
                self, "The file was not saved", f"{path} cannot be written ({error.strerror})."
            )
        else:
            self.signals.status_message.emit(f"Saved {path}")


def sent_text(letter: IssuedLetter) -> str:
    """'Prepared' until the letter is recorded as sent, then '05/12/2026, by hand'."""
    if letter.sent_on is None or letter.sent_method is None:
        return "Prepared (not yet sent)"
    return f"{format_short_date(letter.sent_on)}, {SEND_METHOD_LABELS[letter.sent_method].lower()}"


class MarkSentDialog(QDialog):
    """How and when a prepared letter left the school."""

    def __init__(self, letter: IssuedLetter, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mark the letter as sent")
        intro = QLabel(
            f"{letter.label} to {letter.recipient_name}, dated "
            f"{format_long_date(letter.letter_date)}. Marking it sent ticks its action on the "
            "checklist, takes its step on the escalation ladder and starts the reply-by date."
        )
        intro.setWordWrap(True)
        intro.setMinimumWidth(460)
        self.method_box = QComboBox()
        for method, label in (
            (SendMethod.POST, "Printed and posted"),
            (SendMethod.HAND, "Handed over"),
            (SendMethod.EMAIL, "Emailed"),
        ):
            self.method_box.addItem(label, method)
        self.method_box.setCurrentIndex(self.method_box.findData(letter.method))
        self.date_edit = QDateEdit(QDate(today.year, today.month, today.day))
        self.date_edit.setDisplayFormat("dd/MM/yyyy")
        self.date_edit.setCalendarPopup(True)
        first = letter.letter_date
        self.date_edit.setDateRange(
            QDate(first.year, first.month, first.day), QDate(today.year, today.month, today.day)
        )
        form = QFormLayout()
        form.addRow("&How it was sent", self.method_box)
        form.addRow("&Date sent", self.date_edit)
        roomy_labels(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Mark as &sent", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.adjustSize()

    def method(self) -> SendMethod:
        return SendMethod(self.method_box.currentData())

    def sent_on(self) -> date:
        chosen = self.date_edit.date()
        return date(chosen.year(), chosen.month(), chosen.day())
