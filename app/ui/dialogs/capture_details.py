"""One small dialog for where evidence came from: who sent it, how, when, the post, a note,
and the chain of custody (forwarded by A to B on a date, by some means), hop by hop.

Everything is optional. It opens when evidence is added (for all the files added at once)
and again from "Edit details…"; each change is written to the case's chronology by the
service, not here.
"""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import LONDON, as_utc, to_london
from app.domain.evidence import RECEIVED_VIA, CustodyHop, EvidenceDetails
from app.ui.widgets import roomy_labels, tab_moves_on

_HOP_COLUMNS = ("Forwarded by", "To", "Date (dd/mm/yyyy)", "How")


class _OptionalMoment(QWidget):
    """A date and time that may be unknown (a tick says whether it is known)."""

    def __init__(
        self, label: str, known: str, moment: datetime | None, parent: QWidget | None = None
    ):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.known = QCheckBox(known, self)  # "&Known": its own Alt+letter in the dialog
        self.known.setAccessibleName(f"{label} is known")
        self.edit = QDateTimeEdit(self)
        self.edit.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.edit.setCalendarPopup(True)
        self.edit.setAccessibleName(label)
        shown = to_london(moment) if moment is not None else datetime.now(LONDON)
        self.edit.setDateTime(
            QDateTime(QDate(shown.year, shown.month, shown.day), QTime(shown.hour, shown.minute))
        )
        self.known.setChecked(moment is not None)
        self.edit.setEnabled(moment is not None)
        self.known.toggled.connect(self.edit.setEnabled)
        row.addWidget(self.known)
        row.addWidget(self.edit, 1)

    def value(self) -> datetime | None:
        if not self.known.isChecked():
            return None
        qt = self.edit.dateTime()
        day, time = qt.date(), qt.time()
        local = datetime(
            day.year(), day.month(), day.day(), time.hour(), time.minute(), tzinfo=LONDON
        )
        return as_utc(local)


class CaptureDetailsDialog(QDialog):
    """Who sent the evidence, how and when it came, the post, a note, and its custody."""

    def __init__(
        self, details: EvidenceDetails, count: int = 1, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Where did this evidence come from?")
        self.setObjectName("capture_details")
        intro = QLabel(
            (
                f"These details are kept with the {count} files just added. "
                if count > 1
                else "These details are kept with the evidence. "
            )
            + "Everything is optional and can be changed later; each change is written to "
            "the chronology.",
            self,
        )
        intro.setWordWrap(True)
        self.sent_by = QLineEdit(details.source, self)
        self.sent_by.setPlaceholderText("e.g. Mrs A. Parent (mother of a Year 4 pupil)")
        self.received_via = QComboBox(self)
        self.received_via.setEditable(True)
        self.received_via.addItem("")
        self.received_via.addItems(list(RECEIVED_VIA))
        self.received_via.setCurrentText(details.received_via)
        self.received_via.setAccessibleName("How the evidence came")
        line = self.received_via.lineEdit()
        if line is not None:
            line.setAccessibleName("How the evidence came")
        self.received = _OptionalMoment("When received", "&Known", details.captured_at, self)
        self.captured_by = QLineEdit(details.captured_by, self)
        self.captured_by.setPlaceholderText("Who took the screenshot or photo, if known")
        self.post_url = QLineEdit(details.post_url, self)
        self.post_url.setPlaceholderText("https://…")
        self.posted = _OptionalMoment("When it was posted", "Kno&wn", details.posted_at, self)
        self.note = QPlainTextEdit(details.note, self)
        self.note.setFixedHeight(self.fontMetrics().height() * 4)
        tab_moves_on(self.note)

        form = QFormLayout()
        form.addRow("&Sent by", self.sent_by)
        form.addRow("&How it came", self.received_via)
        form.addRow("&Received", self.received)
        form.addRow("&Captured by", self.captured_by)
        form.addRow("Post &address", self.post_url)
        form.addRow("Date &posted", self.posted)
        form.addRow("&Note", self.note)
        roomy_labels(form)

        self.hops = QTableWidget(0, len(_HOP_COLUMNS), self)
        self.hops.setHorizontalHeaderLabels(list(_HOP_COLUMNS))
        self.hops.setAccessibleName("Chain of custody")
        self.hops.verticalHeader().setVisible(False)
        self.hops.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.hops.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.hops.setFixedHeight(self.fontMetrics().height() * 7)
        for hop in details.custody:
            self.add_hop(hop)
        add_hop = QPushButton("Add a s&tep", self)
        add_hop.setToolTip("Forwarded by one person to another, on a date, by some means")
        add_hop.clicked.connect(lambda: self.add_hop(None))
        remove_hop = QPushButton("Remo&ve step", self)
        remove_hop.clicked.connect(self._remove_hop)
        hop_buttons = QHBoxLayout()
        hop_buttons.addWidget(add_hop)
        hop_buttons.addWidget(remove_hop)
        hop_buttons.addStretch(1)

        self.error = QLabel(self)
        self.error.setStyleSheet("color: #a61b1b;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Skip")
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>Chain of custody</b> (optional)", self))
        layout.addWidget(self.hops)
        layout.addLayout(hop_buttons)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    # ----- custody ------------------------------------------------------------------------

    def add_hop(self, hop: CustodyHop | None) -> None:
        row = self.hops.rowCount()
        self.hops.insertRow(row)
        values = (
            (
                hop.from_person,
                hop.to_person,
                hop.on.strftime("%d/%m/%Y") if hop.on else "",
                hop.means,
            )
            if hop
            else ("", "", "", "")
        )
        for column, value in enumerate(values):
            self.hops.setItem(row, column, QTableWidgetItem(value))
        if hop is None:
            self.hops.setCurrentCell(row, 0)
            first = self.hops.item(row, 0)
            if first is not None:
                self.hops.editItem(first)

    def _remove_hop(self) -> None:
        row = self.hops.currentRow()
        if row >= 0:
            self.hops.removeRow(row)

    def _custody(self) -> tuple[CustodyHop, ...]:
        hops = []
        for row in range(self.hops.rowCount()):
            cells = []
            for column in range(len(_HOP_COLUMNS)):
                item = self.hops.item(row, column)
                cells.append(item.text().strip() if item is not None else "")
            if not any(cells):
                continue
            on: date | None = None
            if cells[2]:
                parsed = QDate.fromString(cells[2], "dd/MM/yyyy")
                if not parsed.isValid():
                    raise ValueError(
                        f"The date of step {row + 1} of the chain of custody, "
                        f"“{cells[2]}”, is not a date like 24/11/2026."
                    )
                on = date(parsed.year(), parsed.month(), parsed.day())
            hops.append(CustodyHop(cells[0], cells[1], on, cells[3]))
        return tuple(hops)

    # ----- result -------------------------------------------------------------------------

    def details(self) -> EvidenceDetails:
        """What the dialog holds (raises ValueError for a date that cannot be read)."""
        return EvidenceDetails(
            captured_at=self.received.value(),
            captured_by=self.captured_by.text().strip(),
            source=self.sent_by.text().strip(),
            post_url=self.post_url.text().strip(),
            posted_at=self.posted.value(),
            note=self.note.toPlainText().strip(),
            received_via=self.received_via.currentText().strip(),
            custody=self._custody(),
        )

    def _check_and_accept(self) -> None:
        try:
            self.details()
        except ValueError as error:
            self.show_error(str(error))
            return
        self.accept()

    def show_error(self, message: str) -> None:
        """Say what is wrong, in the dialog, and keep it open."""
        self.error.setText(message)
        self.error.setVisible(bool(message))
