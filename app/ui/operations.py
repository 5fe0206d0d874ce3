"""The window's one way to run a user action (a command of ``app.services.operations``).

``OperationRunner.run`` executes a slow command on the window's one worker pool, with
progress and cancel; ``OperationRunner.perform`` runs a quick one (a few milliseconds of
database work) at once. Both turn a refusal or a cancellation into the same sentence,
and both announce what the command changed, and who started it, through one signal
(``AppSignals.operation_did_execute``); views refresh from that alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from app.domain.errors import CasebookError, OperationCancelled
from app.services.operations import Cancelled, OpChanges, OpResult, Progress

if TYPE_CHECKING:
    from app.ui.signals import AppSignals

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """Why a command did not do its job, in one sentence for the user."""

    message: str
    cancelled: bool = False  # the user stopped it: said calmly, not as an error
    error: BaseException | None = None  # for a screen that offers more (reload on conflict)


def refusal(error: BaseException) -> Refusal:
    """The one sentence every screen shows for a command that failed or was stopped."""
    if isinstance(error, OperationCancelled):
        return Refusal(error.message, cancelled=True, error=error)
    if isinstance(error, CasebookError):
        # The log records the kind of refusal, never the names in its sentence.
        log.info("Refused: %s", type(error).__name__)
        return Refusal(error.message, error=error)
    log.error("A command failed", exc_info=error)
    return Refusal(
        f"That could not be completed ({type(error).__name__}); nothing further was changed "
        "and the details are in the log file.",
        error=error,
    )


def in_message_box(parent: QWidget | None, title: str = "Not done") -> Callable[[Refusal], None]:
    """Show a refusal in a message box (a cancellation as information, not a warning)."""

    def show(refused: Refusal) -> None:
        if refused.cancelled:
            QMessageBox.information(parent, "Stopped", refused.message)
        else:
            QMessageBox.warning(parent, title, refused.message)

    return show


class Operation(QObject):
    """One command running on the pool: follow its progress, cancel it, hear how it ended."""

    progress = Signal(int, int)
    succeeded = Signal(object)  # the command's value
    failed = Signal(object)  # a Refusal (cancelled or refused)
    finished = Signal()  # after either of the above

    def __init__(self, initiator: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.initiator = initiator
        self._cancel_requested = False
        self.done = False

    def cancel(self) -> None:
        """Ask the command to stop at its next check; it then leaves nothing half written."""
        self._cancel_requested = True

    def is_cancelled(self) -> bool:
        return self._cancel_requested


class _Bridge(QObject):
    """Carries a worker's end back to the GUI thread: it lives there, so Qt queues to it."""

    progress = Signal(int, int)
    ended = Signal(object, object)  # value, error

    def __init__(self, on_end: Callable[[Any, BaseException | None], None]) -> None:
        super().__init__()
        self._on_end = on_end
        self.ended.connect(self._end)

    @Slot(object, object)
    def _end(self, value: Any, error: BaseException | None) -> None:
        self._on_end(value, error)


class _Job(QRunnable):
    def __init__(
        self, work: Callable[[Progress, Cancelled], Any], operation: Operation, bridge: _Bridge
    ) -> None:
        super().__init__()
        self.work = work
        self.operation = operation
        self.bridge = bridge

    def run(self) -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = self.work(self.bridge.progress.emit, self.operation.is_cancelled)
        except Exception as caught:  # handed to the GUI thread, which says what happened
            error = caught
        self.bridge.ended.emit(value, error)


class OperationRunner(QObject):
    """Runs the window's commands; one per window, shared by every view and dialog."""

    def __init__(self, signals: AppSignals, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.signals = signals
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._running: set[Operation] = set()

    # ----- quick commands ---------------------------------------------------------------

    def perform(
        self,
        command: Callable[[], OpResult[T]],
        *,
        initiator: str,
        on_refused: Callable[[Refusal], None] | None = None,
    ) -> T | None:
        """Run a quick command now; announce its changes and return its value.

        A refusal is handed to ``on_refused`` (the screen shows it inline) and None is
        returned; nothing was saved.
        """
        try:
            result = command()
        except Exception as error:
            said = refusal(error)
            if on_refused is not None:
                on_refused(said)
            return None
        self.announce(result.changes, initiator)
        return result.value

    # ----- slow commands ----------------------------------------------------------------

    def run(
        self,
        command: Callable[[Progress, Cancelled], OpResult[Any]],
        *,
        initiator: str,
        on_done: Callable[[Any], None] | None = None,
        on_refused: Callable[[Refusal], None] | None = None,
    ) -> Operation:
        """Start a slow command on the pool; the returned operation can be cancelled.

        ``on_done`` gets the command's value on the GUI thread, after its changes have
        been announced; ``on_refused`` gets the refusal or cancellation.
        """
        operation = Operation(initiator, self)

        def ended(value: Any, error: BaseException | None) -> None:
            self._running.discard(operation)
            operation.done = True
            if error is not None:
                said = refusal(error)
                if on_refused is not None:
                    on_refused(said)
                operation.failed.emit(said)
            else:
                result: OpResult[Any] = value
                self.announce(result.changes, initiator)
                if on_done is not None:
                    on_done(result.value)
                operation.succeeded.emit(result.value)
            operation.finished.emit()
            bridge.deleteLater()

        bridge = _Bridge(ended)
        bridge.progress.connect(operation.progress)
        self._running.add(operation)
        self.pool.start(_Job(command, operation, bridge))
        return operation

    def announce(self, changes: OpChanges, initiator: str) -> None:
        """Tell every view what changed and who started it (the one change notification)."""
        if changes.anything:
            self.signals.announce(changes.by(initiator))

    # ----- shutting down ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def cancel_all(self) -> None:
        for operation in list(self._running):
            operation.cancel()

    def wait(self, msecs: int = 30_000) -> bool:
        """Wait for running commands to end (before closing, and in tests)."""
        # Poll instead of QThreadPool.waitForDone: a worker running Python code needs the
        # interpreter lock, which a blocking wait on this thread could hold.
        deadline = time.monotonic() + msecs / 1000
        while self.pool.activeThreadCount() > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


class Pending(Generic[T]):
    """A value kept per case until it is saved or knowingly discarded (unsaved work)."""

    def __init__(self) -> None:
        self._by_case: dict[int, T] = {}

    def keep(self, case_id: int | None, value: T | None) -> None:
        if case_id is None:
            return
        if value:
            self._by_case[case_id] = value
        else:
            self._by_case.pop(case_id, None)

    def take(self, case_id: int | None) -> T | None:
        return self._by_case.pop(case_id, None) if case_id is not None else None

    def get(self, case_id: int | None) -> T | None:
        return self._by_case.get(case_id) if case_id is not None else None

    def cases(self) -> list[int]:
        return sorted(self._by_case)

    def __bool__(self) -> bool:
        return bool(self._by_case)
