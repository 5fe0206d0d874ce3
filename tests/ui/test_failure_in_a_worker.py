"""An unexpected failure on a worker thread is logged, never shown from that thread."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from app.ui.errors import install_excepthook


def test_a_worker_failure_is_logged_and_does_not_wait_on_a_window(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = sys.excepthook
    install_excepthook(tmp_path)
    try:

        def fail() -> None:
            try:
                raise RuntimeError("Signal source has been deleted")
            except RuntimeError:
                sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]

        worker = threading.Thread(target=fail)
        worker.start()
        worker.join(timeout=10)
        # A message box opened from the worker would wait for ever and hang the program.
        assert not worker.is_alive()
    finally:
        sys.excepthook = before
