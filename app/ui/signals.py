"""The app-wide change notification: commands change data, views refresh from this."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.services.operations import OpChanges


class AppSignals(QObject):
    """One instance per window; passed to every view and dialog that changes data."""

    # What a command changed and who started it (an OpChanges); emitted only by
    # ``announce``, which the window's operation runner calls.
    operation_did_execute = Signal(object)
    # The id of the case that changed, or 0 when many or unknown: the same notification
    # for views that only need to know which case (the case list's table).
    data_changed = Signal(int)
    # A message for the status bar.
    status_message = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from app.ui.operations import OperationRunner

        # The one runner of the window's commands, reachable wherever the signals are.
        self.runner = OperationRunner(self, self)

    def announce(self, changes: OpChanges) -> None:
        """Send one change notification: what changed, for which cases, who started it."""
        self.operation_did_execute.emit(changes)
        self.data_changed.emit(changes.case_id)
