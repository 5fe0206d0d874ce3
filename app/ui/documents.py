"""Saving documents from the window: case file (off the GUI thread), governors' report, CSV."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import london_today
from app.domain.errors import CasebookError
from app.domain.records import CaseFilter, CaseSort
from app.domain.report_figures import DEFAULT_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD, Term
from app.domain.sharing import RULES, Recipient
from app.files import safe_file_name, save_user_file
from app.services.casebook import Services
from app.services.operations import GovernorsReportFiles
from app.ui.file_dialogs import save_file_name
from app.ui.operations import Operation, Refusal
from app.ui.signals import AppSignals
from app.ui.widgets import roomy_labels, with_mnemonic

log = logging.getLogger(__name__)


def _write(parent: QWidget, path: str, data: bytes) -> bool:
    try:
        save_user_file(path, data)
    except CasebookError as error:
        QMessageBox.warning(parent, "Not saved", error.message)
        return False
    except OSError as error:
        QMessageBox.warning(parent, "Not saved", f"{path} could not be written ({error.strerror}).")
        return False
    return True


class CaseFileDialog(QDialog):
    """Who the case file is for: the head's complete file, or a copy under one rule."""

    def __init__(self, reference: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export case file")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Who is the case file of {reference} for?", self))
        self.choices: dict[Recipient | None, QRadioButton] = {}
        self.group = QButtonGroup(self)
        options: list[tuple[Recipient | None, str]] = [(None, "The &head teacher (complete file)")]
        # Each its own Alt+letter: author, local authority, police, platform.
        letters = {
            Recipient.AUTHOR: "author",
            Recipient.LADO: "local",
            Recipient.POLICE: "police",
            Recipient.PLATFORM: "tform",
        }
        options += [
            (r, with_mnemonic(RULES[r].label[0].upper() + RULES[r].label[1:], letters[r]))
            for r in Recipient
        ]
        for recipient, text in options:
            button = QRadioButton(text, self)
            button.toggled.connect(self._show_rule)
            self.group.addButton(button)
            self.choices[recipient] = button
            layout.addWidget(button)
        self.rule = QLabel(self)
        self.rule.setWordWrap(True)
        self.rule.setMinimumWidth(460)
        self.rule.setStyleSheet("color: #333; padding: 6px; border: 1px solid #ccc;")
        layout.addWidget(self.rule)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Save…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.choices[Recipient.AUTHOR].setChecked(True)

    def recipient(self) -> Recipient | None:
        """The recipient chosen (None for the head's complete file)."""
        for recipient, button in self.choices.items():
            if button.isChecked():
                return recipient
        return None

    def _show_rule(self) -> None:
        recipient = self.recipient()
        self.rule.setText(
            "Everything the school holds on the case, originals included. For the head "
            "teacher’s office only."
            if recipient is None
            else RULES[recipient].rule
        )


def export_case_file(
    parent: QWidget, services: Services, case_id: int, signals: AppSignals
) -> Operation | None:
    """Ask who the case file is for and where to save it, then build it on the runner."""
    case = services.cases.get_case(case_id)
    ask = CaseFileDialog(case.reference, parent)
    if not ask.exec():
        return None
    recipient = ask.recipient()
    suffix = f"-for-{recipient.value}" if recipient is not None else ""
    path = save_file_name(
        parent,
        "case files",
        "Save case file",
        safe_file_name(f"{case.reference}{suffix}.pdf"),
        "PDF (*.pdf)",
    )
    if not path:
        return None
    dialog = QProgressDialog("Putting the case file together…", "Cancel", 0, 100, parent)
    dialog.setWindowTitle("Case file")
    dialog.setMinimumDuration(300)

    def finished(pdf: bytes) -> None:
        dialog.reset()
        if _write(parent, path, pdf):
            QMessageBox.information(parent, "Case file", f"Saved the case file to {path}.")

    def refused(said: Refusal) -> None:
        dialog.reset()
        if not said.cancelled:  # Cancel was pressed in this very box: nothing more to say
            QMessageBox.warning(parent, "Not saved", said.message)

    operations = services.operations
    operation = signals.runner.run(
        lambda progress, cancelled: operations.export_case_file(
            case_id, recipient=recipient, progress=progress, cancelled=cancelled
        ),
        initiator="case file",
        on_done=finished,
        on_refused=refused,
    )

    def progress(done: int, total: int) -> None:
        dialog.setMaximum(total)
        dialog.setValue(done)

    operation.progress.connect(progress)
    dialog.canceled.connect(operation.cancel)
    return operation


class ReportPeriodDialog(QDialog):
    """Asks for the period of the governors' report (a school term, or any dates)."""

    def __init__(
        self,
        today: date,
        parent: QWidget | None = None,
        terms: tuple[Term, ...] = (),
        threshold: int = DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Governors’ report")
        self.start = QDateEdit(self)
        self.end = QDateEdit(self)
        for edit in (self.start, self.end):
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setCalendarPopup(True)
        # The school year so far: from 1 September.
        first = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
        self.presets = QComboBox(self)
        self.presets.addItem("School year so far", (first, today))
        for term in terms:
            self.presets.addItem(
                f"{term.name} ({term.start:%d/%m/%Y} to {term.end:%d/%m/%Y})",
                (term.start, term.end),
            )
        self.presets.currentIndexChanged.connect(self._preset_chosen)
        self._set_period(first, today)
        self.threshold = QSpinBox(self)
        self.threshold.setRange(MIN_THRESHOLD, MAX_THRESHOLD)
        self.threshold.setValue(threshold)
        self.threshold.setToolTip(
            "Smaller counts are shown as “fewer than …” so no family is recognised"
        )
        self.csv = QCheckBox("Also save the figures as &CSV", self)
        form = QFormLayout(self)
        form.addRow("&Period", self.presets)
        form.addRow("&From", self.start)
        form.addRow("&To", self.end)
        form.addRow("&Hide counts below", self.threshold)
        form.addRow("", self.csv)
        roomy_labels(form)  # "To" was painted wider than measured at 150% ("Tc")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _set_period(self, start: date, end: date) -> None:
        self.start.setDate(QDate(start.year, start.month, start.day))
        self.end.setDate(QDate(end.year, end.month, end.day))

    def _preset_chosen(self, index: int) -> None:
        start, end = self.presets.itemData(index)
        self._set_period(start, end)

    def period(self) -> tuple[date, date]:
        start = self.start.date().toPython()
        end = self.end.date().toPython()
        assert isinstance(start, date) and isinstance(end, date)
        return start, end


def save_governors_report(
    parent: QWidget, services: Services, signals: AppSignals
) -> Operation | None:
    """Ask for a period and a file, then make the report (and CSV if asked) on the runner.

    The work has no natural steps, so Cancel discards the result when it arrives.
    """
    today = london_today(services.ctx.now())
    terms, _ = services.reports.terms(date(today.year - 1, 9, 1), today)
    dialog = ReportPeriodDialog(today, parent, terms, services.reports.report_threshold())
    if not dialog.exec():
        return None
    start, end = dialog.period()
    if end < start:
        QMessageBox.warning(parent, "Not done", "The end of the period is before its start.")
        return None
    path = save_file_name(
        parent,
        "reports",
        "Save governors’ report",
        f"governors-report-{start}-{end}.pdf",
        "PDF (*.pdf)",
    )
    if not path:
        return None
    with_csv, threshold = dialog.csv.isChecked(), dialog.threshold.value()
    busy = QProgressDialog("Counting the cases and drawing the report…", "Cancel", 0, 0, parent)
    busy.setWindowTitle("Governors’ report")
    busy.setMinimumDuration(300)

    def finished(files: GovernorsReportFiles) -> None:
        busy.reset()
        if operation.is_cancelled() or not _write(parent, path, files.pdf):
            return
        if files.csv:
            _write(parent, str(Path(path).with_suffix(".csv")), files.csv.encode("utf-8-sig"))
        QMessageBox.information(
            parent, "Governors’ report", f"Saved the report on {files.case_count} cases to {path}."
        )

    def refused(said: Refusal) -> None:
        busy.reset()
        QMessageBox.warning(parent, "Not done", said.message)

    operations = services.operations
    operation = signals.runner.run(
        lambda _progress, _cancelled: operations.governors_report(start, end, with_csv, threshold),
        initiator="governors’ report",
        on_done=finished,
        on_refused=refused,
    )
    busy.canceled.connect(operation.cancel)
    return operation


def export_case_list(parent: QWidget, services: Services, flt: CaseFilter, sort: CaseSort) -> None:
    """Save the case list, as filtered and sorted, as CSV."""
    path = save_file_name(parent, "case lists", "Export case list", "cases.csv", "CSV (*.csv)")
    if path and _write(parent, path, services.reports.cases_csv(flt, sort).encode("utf-8-sig")):
        services_message = f"Saved the case list to {path}."
        QMessageBox.information(parent, "Case list", services_message)
