"""The app-wide "data changed" signal: services change data, views refresh from this."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AppSignals(QObject):
    """One instance per window; passed to every view and dialog that changes data."""

    # The id of the case that changed, or 0 when many or unknown.
    data_changed = Signal(int)
    # A message for the status bar.
    status_message = Signal(str)
