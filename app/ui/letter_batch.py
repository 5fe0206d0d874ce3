"""Letters for several cases at once, off the GUI thread, with progress and cancel.

Two jobs: printing the latest letter of each selected case as one PDF, and issuing one kind
of letter on each selected case (a preview of each first; each letter recorded on its own
case; one combined PDF to print).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasebookError
from app.domain.letters import (
    BARRING_KINDS,
    LETTER_KINDS,
    SEND_METHOD_LABELS,
    LetterKind,
    SendMethod,
)
from app.services.casebook import Services
from app.services.letters import BatchPlan, BatchResult

log = logging.getLogger(__name__)

# A job is given (progress, cancelled) and returns its result.
Job = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]


class BatchSignals(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # the job's result
    failed = Signal(str)


class LetterBatchWorker(QRunnable):
    """Runs one batch job; Cancel is honoured between cases."""

    def __init__(self, job: Job, what: str) -> None:
        super().__init__()
        self.job = job
        self.what = what
        self.signals = BatchSignals()
        self.cancel_requested = False

    def run(self) -> None:
        try:
            result = self.job(self.signals.progress.emit, lambda: self.cancel_requested)
        except CasebookError as error:
            self.signals.failed.emit(error.message)
            return
        except Exception:  # a worker must report, never die silently
            log.exception("A batch of letters failed")
            self.signals.failed.emit(f"{self.what} failed; details are in the log file.")
            return
        self.signals.finished.emit(result)


class BatchPrintWorker(LetterBatchWorker):
    """Collects the latest letter of each case into one PDF; can be cancelled between cases."""

    def __init__(self, services: Services, case_ids: list[int]) -> None:
        super().__init__(
            lambda progress, cancelled: services.letters.batch_pdf(
                case_ids, progress=progress, cancelled=cancelled
            ),
            "Putting the letters together",
        )
        self.services = services
        self.case_ids = case_ids


def _run_with_progress(
    worker: LetterBatchWorker, label: str, total: int, parent: QWidget | None
) -> LetterBatchWorker:
    """Start ``worker`` with a progress dialog whose Cancel stops it."""
    dialog = QProgressDialog(label, "Cancel", 0, total, parent)
    dialog.setWindowTitle("Letters")
    dialog.setMinimumDuration(300)

    def cancel() -> None:
        worker.cancel_requested = True

    dialog.canceled.connect(cancel)
    worker.signals.progress.connect(lambda done, _total: dialog.setValue(done))
    worker.signals.finished.connect(lambda _result: dialog.reset())
    worker.signals.failed.connect(lambda _m: dialog.reset())
    QThreadPool.globalInstance().start(worker)
    return worker


def start_batch_print(
    services: Services, case_ids: list[int], parent: QWidget | None = None
) -> BatchPrintWorker:
    """Start the worker with a progress dialog whose Cancel stops it; connect to its signals."""
    worker = BatchPrintWorker(services, case_ids)
    _run_with_progress(worker, "Putting the letters together…", len(case_ids), parent)
    return worker


class BatchLetterDialog(QDialog):
    """Issue one kind of letter on each selected case: prepare, preview each, issue, print."""

    plan_ready = Signal(object)  # BatchPlan
    issued = Signal(object)  # BatchResult
    failed = Signal(str)

    def __init__(
        self, services: Services, case_ids: list[int], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        from app.ui.views.pdf_preview import PdfPreview

        self.services = services
        self.case_ids = case_ids
        self.plan: BatchPlan | None = None
        self.batch_result: BatchResult | None = None
        self.worker: LetterBatchWorker | None = None
        self.setWindowTitle(f"Issue a letter to {len(case_ids)} cases")
        self.resize(1000, 720)

        self.kind_box = QComboBox(self)
        for kind in LetterKind:
            if not LETTER_KINDS[kind].optional:
                self.kind_box.addItem(LETTER_KINDS[kind].label, kind)
        self.kind_box.insertSeparator(self.kind_box.count())
        for kind in BARRING_KINDS:
            self.kind_box.addItem(LETTER_KINDS[kind].label, kind)
        self.method_box = QComboBox(self)
        for method in SendMethod:
            self.method_box.addItem(SEND_METHOD_LABELS[method], method)
        for box in (self.kind_box, self.method_box):
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(16)
        self.prepare_button = QPushButton("&Prepare the letters", self)
        form = QFormLayout()
        form.addRow("&Letter", self.kind_box)
        form.addRow("&Sent", self.method_box)
        self.cases = QListWidget(self)
        self.cases.setAccessibleName("Cases and their letters")
        self.note = QLabel(
            "Each letter goes to the case’s usual recipient (for most letters, the post’s "
            "author) and is recorded on its own case.",
            self,
        )
        self.note.setWordWrap(True)
        self.refusal = QLabel(self)
        self.refusal.setWordWrap(True)
        self.refusal.setTextFormat(Qt.TextFormat.PlainText)
        self.refusal.setStyleSheet("color:#a4262c;")
        self.preview = PdfPreview(self)
        self.preview.set_accessible_name("Preview of the chosen case’s letter")

        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.prepare_button)
        left.addWidget(self.cases, 1)
        left.addWidget(self.note)
        left.addWidget(self.refusal)
        left_widget = QWidget(self)
        left_widget.setLayout(left)
        left_widget.setFixedWidth(380)
        top = QHBoxLayout()
        top.addWidget(left_widget)
        top.addWidget(self.preview, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.issue_button = self.buttons.addButton(
            "&Issue letters", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.issue_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.buttons)

        self.prepare_button.clicked.connect(self.prepare)
        self.issue_button.clicked.connect(self.issue)
        self.buttons.rejected.connect(self.reject)
        self.kind_box.currentIndexChanged.connect(self._choices_changed)
        self.method_box.currentIndexChanged.connect(self._choices_changed)
        self.cases.currentRowChanged.connect(self._show_case)
        self.failed.connect(lambda message: QMessageBox.warning(self, "Letters", message))

    def kind(self) -> LetterKind:
        return LetterKind(self.kind_box.currentData())

    def _choices_changed(self) -> None:
        # A plan made with other choices is never issued.
        self.plan = None
        self.cases.clear()
        self.preview.set_pdf(b"")
        self.refusal.clear()
        self.issue_button.setEnabled(False)
        self.issue_button.setText("&Issue letters")

    def prepare(self) -> None:
        """Prepare the chosen letter on every case (off the GUI thread)."""
        self._choices_changed()
        kind, method = self.kind(), SendMethod(self.method_box.currentData())
        letters = self.services.letters
        ids = list(self.case_ids)
        worker = LetterBatchWorker(
            lambda progress, cancelled: letters.prepare_batch(
                ids, kind, method, progress=progress, cancelled=cancelled
            ),
            "Preparing the letters",
        )
        worker.signals.finished.connect(self._planned)
        worker.signals.failed.connect(self.failed)
        self.worker = _run_with_progress(worker, "Preparing the letters…", len(ids), self)

    def _planned(self, plan: BatchPlan) -> None:
        if plan.cancelled:
            self.refusal.setText("Preparing the letters was cancelled; nothing was issued.")
            self.plan_ready.emit(plan)
            return
        self.plan = plan
        for item in plan.items:
            if item.prepared is not None and item.prepared.recipient is not None:
                text = f"{item.reference} — to {item.prepared.recipient.name}"
            else:
                text = f"{item.reference} — cannot have this letter"
            entry = QListWidgetItem(text)
            entry.setData(Qt.ItemDataRole.UserRole, item.case_id)
            self.cases.addItem(entry)
        ready = len(plan.ready)
        self.issue_button.setText(f"&Issue {ready} letter{'' if ready == 1 else 's'}")
        self.issue_button.setEnabled(ready > 0)
        if plan.items:
            self.cases.setCurrentRow(0)
        self.plan_ready.emit(plan)

    def _show_case(self, row: int) -> None:
        if self.plan is None or not 0 <= row < len(self.plan.items):
            return
        item = self.plan.items[row]
        if item.prepared is None:
            self.preview.set_pdf(b"")
            self.refusal.setText(f"{item.reference}: {item.refusal}")
            return
        notes = (*item.prepared.warnings, *(sentence for _, sentence in item.questions))
        self.refusal.setText("\n".join(notes))
        self.preview.set_pdf(item.prepared.pdf)

    def issue(self) -> None:
        """Issue every ready letter, each on its own case, then offer the combined PDF."""
        plan = self.plan
        if plan is None or not plan.ready:
            return
        confirmed = self._ask(plan)
        if confirmed is None:
            return
        self.issue_button.setEnabled(False)
        letters = self.services.letters
        worker = LetterBatchWorker(
            lambda progress, cancelled: letters.issue_batch(
                plan, progress=progress, cancelled=cancelled, confirmed=confirmed
            ),
            "Issuing the letters",
        )
        worker.signals.finished.connect(self._issued)
        worker.signals.failed.connect(self.failed)
        self.worker = _run_with_progress(worker, "Issuing the letters…", len(plan.ready), self)

    def _ask(self, plan: BatchPlan) -> frozenset[str] | None:
        """Ask once about the letters that need confirming: the reasons answered yes, an
        empty set to issue only the others, or None to issue nothing."""
        asking = [item for item in plan.ready if item.questions]
        if not asking:
            return frozenset()
        lines = [
            f"{item.reference}: {sentence}" for item in asking for _, sentence in item.questions
        ]
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Some letters need confirming",
            "\n\n".join(lines[:6])
            + (f"\n\n… and {len(lines) - 6} more." if len(lines) > 6 else "")
            + f"\n\nIssue these {len(asking)} letters as they are? "
            "Choose No to issue only the others.",
            QMessageBox.StandardButton.Yes
            | QMessageBox.StandardButton.No
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Yes:
            return frozenset(reason for item in asking for reason, _ in item.questions)
        if answer == QMessageBox.StandardButton.No:
            return frozenset()
        return None

    def _issued(self, result: BatchResult) -> None:
        self.batch_result = result
        self.plan = None  # issued letters are never issued twice
        count = len(result.issued)
        summary = f"{count} letter{'' if count == 1 else 's'} issued, each recorded on its case"
        if result.cancelled:
            summary += " (cancelled before the rest)"
        if result.skipped:
            summary += "; not issued: " + ", ".join(result.skipped)
        self.refusal.setText(summary + ".")
        self.issued.emit(result)
