"""Small widget recipes shared by several screens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QAbstractItemView, QProgressDialog, QTableWidget, QWidget

T = TypeVar("T")


def read_only_table(headers: Sequence[str], parent: QWidget | None = None) -> QTableWidget:
    """A table of whole rows that the user selects one at a time and never edits in place."""
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    return table


class _Done(QObject):
    finished = Signal()


def run_while_busy(parent: QWidget | None, label: str, work: Callable[[], T]) -> T:
    """Run ``work`` on a worker thread behind a modal "please wait" box; return its result.

    For one-off jobs that take seconds (encrypting or restoring a casebook): the window
    keeps painting and the user sees that something is happening. ``work`` must not touch
    Qt; whatever it raises is raised again here, on the GUI thread.
    """
    outcome: dict[str, Any] = {}
    done = _Done()
    loop = QEventLoop()
    done.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)

    class Job(QRunnable):
        def run(self) -> None:
            try:
                outcome["value"] = work()
            except BaseException as error:  # handed back to the GUI thread below
                outcome["error"] = error
            finally:
                done.finished.emit()

    box = QProgressDialog(label, "", 0, 0, parent)
    box.setCancelButton(None)  # type: ignore[arg-type]
    box.setWindowModality(Qt.WindowModality.ApplicationModal)
    box.setMinimumDuration(400)
    QThreadPool.globalInstance().start(Job())
    loop.exec()
    box.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
