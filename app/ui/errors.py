"""Showing refusals to the user: one clear sentence, details only in the log."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.domain.errors import CasebookError

log = logging.getLogger(__name__)


def show_refusal(parent: QWidget | None, error: CasebookError, title: str = "Not done") -> None:
    """A message box with the error's own sentence."""
    # The log is plain text: it records the kind of refusal, never the names in its sentence.
    log.info("Refused: %s", type(error).__name__)
    QMessageBox.warning(parent, title, error.message)


@contextmanager
def refusals_shown(parent: QWidget | None, title: str = "Not done") -> Iterator[None]:
    """Run a user action; a domain refusal becomes a message box instead of an exception."""
    try:
        yield
    except CasebookError as error:
        show_refusal(parent, error, title)


def install_excepthook(data_dir: Path | None = None) -> None:
    """Unexpected failures are logged in full and shown as one calm sentence.

    A failing disk (full, read-only, damaged database) gets its own sentence saying what
    to do, since the person can act on it.
    """

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("Unexpected failure", exc_info=(kind, value, tb))
        if threading.current_thread() is not threading.main_thread():
            # A window may only be opened on the GUI thread: from a worker, a message box
            # would wait for ever (and hang the program as it quits). The log has it.
            return
        # Imported here: the window's start installs this hook before the database layer
        # is loaded (by then it has been).
        from app.services.faults import explain_storage_failure

        refusal = explain_storage_failure(value, data_dir) if data_dir is not None else None
        if refusal is not None and QApplication.instance() is not None:
            QMessageBox.critical(QApplication.activeWindow(), "Not saved", refusal.message)
        elif QApplication.instance() is not None:
            QMessageBox.critical(
                QApplication.activeWindow(),
                "Something went wrong",
                "That action could not be completed. Nothing further was changed; the details "
                "are in the log file in the data folder.",
            )

    sys.excepthook = hook
