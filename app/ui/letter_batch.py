"""Printing the letters of several cases as one PDF, off the GUI thread, with progress."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.domain.errors import CasebookError
from app.services.casebook import Services
from app.services.letters import BatchResult

log = logging.getLogger(__name__)


class BatchSignals(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # BatchResult
    failed = Signal(str)


class BatchPrintWorker(QRunnable):
    """Collects the latest letter of each case into one PDF; can be cancelled between cases."""

    def __init__(self, services: Services, case_ids: list[int]) -> None:
        super().__init__()
        self.services = services
        self.case_ids = case_ids
        self.signals = BatchSignals()
        self.cancel_requested = False

    def run(self) -> None:
        try:
            result = self.services.letters.batch_pdf(
                self.case_ids,
                progress=self.signals.progress.emit,
                cancelled=lambda: self.cancel_requested,
            )
        except CasebookError as error:
            self.signals.failed.emit(error.message)
            return
        except Exception:  # a worker must report, never die silently
            log.exception("Batch printing failed")
            self.signals.failed.emit(
                "The letters could not be put together; details are in the log file."
            )
            return
        self.signals.finished.emit(result)


def start_batch_print(
    services: Services, case_ids: list[int], parent: QWidget | None = None
) -> BatchPrintWorker:
    """Start the worker with a progress dialog whose Cancel stops it; connect to its signals."""
    worker = BatchPrintWorker(services, case_ids)
    dialog = QProgressDialog("Putting the letters together…", "Cancel", 0, len(case_ids), parent)
    dialog.setWindowTitle("Printing letters")
    dialog.setMinimumDuration(300)

    def cancel() -> None:
        worker.cancel_requested = True

    def finished(_result: BatchResult | None = None) -> None:
        dialog.reset()

    dialog.canceled.connect(cancel)
    worker.signals.progress.connect(lambda done, _total: dialog.setValue(done))
    worker.signals.finished.connect(finished)
    worker.signals.failed.connect(lambda _m: dialog.reset())
    QThreadPool.globalInstance().start(worker)
    return worker
