"""The audit trail, for the head teacher: read, filter, check and export it.

The table reads one page of entries at a time, so a trail of a hundred thousand entries
opens at once; filters run in the database. Checking the chain and exporting read every
entry, so they run on a worker thread while the window stays usable.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_date_time_seconds, london_today
from app.domain.errors import CasebookError
from app.files import save_user_file
from app.services.audit import AuditCheck, AuditEntry, AuditFilter, AuditService
from app.services.casebook import Services
from app.ui.errors import refusals_shown
from app.ui.file_dialogs import save_file_name

log = logging.getLogger(__name__)

COLUMNS = ("No.", "Time (UK)", "User", "Action", "Record", "Detail")
PAGE_SIZE = 200
MAX_PAGES = 50  # at most ~10,000 entries kept in memory
EVERYONE = "Everyone"
BROKEN_BACKGROUND = QColor("#fdecea")
_Index = QModelIndex | QPersistentModelIndex


class AuditTableModel(QAbstractTableModel):
    """Entries newest first, read from the service a page at a time and cached (LRU)."""

    def __init__(self, audit: AuditService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._audit = audit
        self.audit_filter = AuditFilter()
        self._count = 0
        self._pages: OrderedDict[int, list[tuple[AuditEntry, tuple[str, ...]]]] = OrderedDict()
        self.broken_seq: int | None = None

    def reload(self, audit_filter: AuditFilter | None = None) -> None:
        """Count again and forget the cached pages (after a filter change or new entries)."""
        self.beginResetModel()
        if audit_filter is not None:
            self.audit_filter = audit_filter
        self._pages.clear()
        self._count = self._audit.count(self.audit_filter)
        self.endResetModel()

    def entry_at(self, row: int) -> AuditEntry | None:
        """The entry shown in ``row``, read from the database if its page is not cached."""
        found = self._row(row)
        return found[0] if found else None

    def _row(self, row: int) -> tuple[AuditEntry, tuple[str, ...]] | None:
        if not 0 <= row < self._count:
            return None
        number, offset = divmod(row, PAGE_SIZE)
        page = self._pages.get(number)
        if page is None:
            entries = self._audit.entries(
                self.audit_filter, offset=number * PAGE_SIZE, limit=PAGE_SIZE
            )
            page = [(e, _texts(e)) for e in entries]
            self._pages[number] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page[offset] if offset < len(page) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.BackgroundRole,
            Qt.ItemDataRole.TextAlignmentRole,
        ):
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if index.column() == 0:
                return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            return None
        found = self._row(index.row())
        if found is None:
            return None
        entry, texts = found
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(BROKEN_BACKGROUND) if entry.seq == self.broken_seq else None
        return texts[index.column()]


def _texts(entry: AuditEntry) -> tuple[str, ...]:
    return (
        str(entry.seq),
        format_date_time_seconds(entry.at),
        entry.user,
        entry.action,
        entry.target,
        entry.detail,
    )


# ----- work off the GUI thread ------------------------------------------------------------


class _Signals(QObject):
    finished = Signal(object)
    failed = Signal(str)


class _Job(QRunnable):
    """Runs one call on a pool thread and reports its result or its refusal by signals."""

    def __init__(self, work: Callable[[], object], failure: str) -> None:
        super().__init__()
        self.work = work
        self.failure = failure
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.work()
        except CasebookError as error:
            self.signals.failed.emit(error.message)
            return
        except OSError as error:
            log.exception("Audit trail job failed")
            self.signals.failed.emit(f"{self.failure} ({error.strerror or error}).")
            return
        except Exception:  # a worker must report, never die silently
            log.exception("Audit trail job failed")
            self.signals.failed.emit(f"{self.failure}; the details are in the log file.")
            return
        self.signals.finished.emit(result)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one."""
    save_user_file(path, data)


def check_sentence(check: AuditCheck) -> str:
    """The result of a check in one sentence (the first problem, and how many more)."""
    if check.ok:
        # Say what could not be vouched for (a trail not sealed yet, a key not held).
        limits = [note for note in check.notes if not note.startswith("Sealed since")]
        return (
            f"The audit trail is intact: all {check.entries:,} entries were checked and none "
            "has been changed, removed or reordered." + "".join(" " + n for n in limits)
        )
    first, more = check.problems[0], len(check.problems) - 1
    if not more:
        return first
    return first.rstrip(".") + f" (and {more} more problem{'s' if more > 1 else ''})."


# ----- the dialog ------------------------------------------------------------------------


class AuditTrailDialog(QDialog):
    """Who viewed, changed, exported or printed what: newest first, filtered in the database.

    Opening it is recorded in the trail, and refused (AccessDenied) for anyone but the
    head teacher, so construct it inside ``refusals_shown`` (see ``open_audit_trail``).
    """

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        total = services.audit.open_trail()  # refused before any window is made
        super().__init__(parent)
        self._audit = services.audit
        self.setWindowTitle("Audit trail")
        self.resize(1040, 620)
        self.pool = QThreadPool(self)
        self.check_job: _Job | None = None
        self.export_job: _Job | None = None
        self.last_check: AuditCheck | None = None
        self.saved_to: Path | None = None

        # Filters: typing waits a moment, so each key press does not query the database.
        self.user_filter = QComboBox(self)
        self.user_filter.addItem(EVERYONE)
        self.user_filter.addItems(self._audit.user_names())
        self.action_filter = QLineEdit(self)
        self.action_filter.setAccessibleName("Action contains")
        self.action_filter.setPlaceholderText("for example: letter, view, refused")
        self.target_filter = QLineEdit(self)
        self.target_filter.setAccessibleName("Case or target contains")
        self.target_filter.setPlaceholderText("for example: SM-2026-0001")
        today = london_today()
        self.use_from = QCheckBox("&From", self)
        self.from_date = _date_edit(self, today.replace(day=1))
        self.from_date.setAccessibleName("From date")
        self.use_to = QCheckBox("&To", self)
        self.to_date = _date_edit(self, today)
        self.to_date.setAccessibleName("To date")
        self.clear_button = QPushButton("C&lear filters", self)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(250)
        self._typing.timeout.connect(self.apply_filter)
        for edit in (self.action_filter, self.target_filter):
            edit.textChanged.connect(lambda _text: self._typing.start())
            edit.returnPressed.connect(self.apply_filter)
        self.user_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        for box, date_edit in ((self.use_from, self.from_date), (self.use_to, self.to_date)):
            box.toggled.connect(date_edit.setEnabled)
            box.toggled.connect(lambda _on: self.apply_filter())
            date_edit.dateChanged.connect(lambda _d: self.apply_filter())
        self.clear_button.clicked.connect(self.clear_filters)

        filters = QGridLayout()
        filters.addWidget(QLabel("User:", self), 0, 0)
        filters.addWidget(self.user_filter, 0, 1)
        filters.addWidget(QLabel("Action contains:", self), 0, 2)
        filters.addWidget(self.action_filter, 0, 3)
        filters.addWidget(QLabel("Record or reference:", self), 0, 4)
        filters.addWidget(self.target_filter, 0, 5)
        dates = QHBoxLayout()
        dates.addWidget(self.use_from)
        dates.addWidget(self.from_date)
        dates.addSpacing(12)
        dates.addWidget(self.use_to)
        dates.addWidget(self.to_date)
        dates.addStretch(1)
        dates.addWidget(self.clear_button)
        filters.addLayout(dates, 1, 0, 1, 6)
        filters.setColumnStretch(3, 1)
        filters.setColumnStretch(5, 1)

        self.model = AuditTableModel(self._audit, self)
        self.table = QTableView(self)
        self.table.setAccessibleName("Audit entries")
        self.table.setTabKeyNavigation(False)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        vertical = self.table.verticalHeader()
        vertical.setVisible(False)
        # Fixed row heights: Qt never measures a hundred thousand rows to lay out the table.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((60, 150, 190, 170, 120)):
            self.table.setColumnWidth(column, width)

        self.count_label = QLabel(self)
        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setVisible(False)
        self.check_button = QPushButton("&Check the audit trail", self)
        self.check_button.setToolTip(
            "Confirm that no entry has been changed, removed or reordered since it was written"
        )
        self.check_button.clicked.connect(self.start_check)
        # After a problem is reported, a head teacher holding the audit key may seal the
        # trail as it now stands; what was found is written into the trail first.
        self.reseal_button = QPushButton("Seal &again…", self)
        self.reseal_button.setToolTip(
            "Write the problems found into the trail, then seal it as it now stands "
            "(entries found changed stay reported)"
        )
        self.reseal_button.clicked.connect(self.confirm_reseal)
        self.reseal_button.setVisible(False)
        self.export_button = QPushButton("&Export as CSV…", self)
        self.export_button.setToolTip("Save the entries shown (with these filters) as a CSV file")
        self.export_button.clicked.connect(self.choose_export)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        # Enter in a filter box only filters: no button of this window is pressed by it.
        close_button = close.button(QDialogButtonBox.StandardButton.Close)
        for button in (
            self.clear_button,
            self.check_button,
            self.reseal_button,
            self.export_button,
            close_button,
        ):
            button.setAutoDefault(False)
        actions = QHBoxLayout()
        actions.addWidget(self.check_button)
        actions.addWidget(self.reseal_button)
        actions.addWidget(self.export_button)
        actions.addStretch(1)
        actions.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)
        layout.addWidget(self.result_label)
        layout.addLayout(actions)
        self._total = total
        self.model.reload()
        self._show_count()

    # ----- filtering --------------------------------------------------------------------

    def current_filter(self) -> AuditFilter:
        """The filter the controls describe (dates are whole days in UK time)."""
        user = self.user_filter.currentText() if self.user_filter.currentIndex() > 0 else ""
        return AuditFilter.for_days(
            user=user,
            action=self.action_filter.text(),
            target=self.target_filter.text(),
            first_day=_day(self.from_date) if self.use_from.isChecked() else None,
            last_day=_day(self.to_date) if self.use_to.isChecked() else None,
        )

    def apply_filter(self) -> None:
        """Show only the entries the filters let through (the database does the narrowing)."""
        self._typing.stop()
        with refusals_shown(self, "Audit trail"):
            self.model.reload(self.current_filter())
            self._show_count()

    def clear_filters(self) -> None:
        """Show every entry again."""
        for widget in (self.user_filter, self.action_filter, self.target_filter):
            widget.blockSignals(True)
        self.user_filter.setCurrentIndex(0)
        self.action_filter.clear()
        self.target_filter.clear()
        for widget in (self.user_filter, self.action_filter, self.target_filter):
            widget.blockSignals(False)
        for box in (self.use_from, self.use_to):
            box.blockSignals(True)
            box.setChecked(False)
            box.blockSignals(False)
        self.from_date.setEnabled(False)
        self.to_date.setEnabled(False)
        self.apply_filter()

    def _show_count(self) -> None:
        shown = self.model.rowCount()
        filtered = self.model.audit_filter != AuditFilter()
        if filtered:
            self._total = self._audit.count()
        if not shown:
            text = "No entry matches these filters." if filtered else "The audit trail is empty."
        elif filtered:
            text = f"{shown:,} of {self._total:,} entries match these filters, newest first."
        else:
            text = f"{shown:,} entries, newest first."
        self.count_label.setText(text)

    # ----- checking the chain -------------------------------------------------------------

    def start_check(self) -> None:
        """Walk the whole chain on a worker thread; the result appears under the table."""
        if self.check_job is not None:
            return
        self.check_button.setEnabled(False)
        self._show_result("Checking every entry of the audit trail…", None)
        job = _Job(self._audit.verify, "The audit trail could not be checked")
        job.signals.finished.connect(self._check_done)
        job.signals.failed.connect(self._check_failed)
        self.check_job = job
        self.pool.start(job)

    def _check_done(self, check: AuditCheck) -> None:
        self.check_job = None
        self.check_button.setEnabled(True)
        self.last_check = check
        self.model.broken_seq = check.broken_seq
        self.model.reload()  # the check itself is now in the trail
        self._show_count()
        self._show_result(check_sentence(check), check.ok)
        self.result_label.setToolTip("\n".join((*check.problems, *check.notes)))
        self.reseal_button.setVisible(not check.ok and self._audit.audit_key is not None)
        if check.broken_seq is not None:
            self.select_entry(check.broken_seq)

    def _check_failed(self, message: str) -> None:
        self.check_job = None
        self.check_button.setEnabled(True)
        self._show_result(message, False)

    def confirm_reseal(self) -> None:
        """Ask before sealing the trail again after a reported problem."""
        answer = QMessageBox.question(
            self,
            "Seal the audit trail again",
            "The problems found will be written into the audit trail, and the trail sealed as "
            "it now stands. Entries found changed will still be reported by every check. "
            "Seal it again?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.reseal()

    def reseal(self) -> None:
        """Seal the trail again on a worker thread, then check it afresh."""
        if self.check_job is not None:
            return
        self.reseal_button.setVisible(False)
        self.check_button.setEnabled(False)
        self._show_result("Sealing the audit trail again…", None)
        job = _Job(self._audit.reseal, "The audit trail could not be sealed again")
        job.signals.finished.connect(self._resealed)
        job.signals.failed.connect(self._check_failed)
        self.check_job = job
        self.pool.start(job)

    def _resealed(self, _found: AuditCheck) -> None:
        self.check_job = None
        self.start_check()

    def select_entry(self, seq: int) -> bool:
        """Select and scroll to entry ``seq`` if the filters show it."""
        row = self._audit.position(seq, self.model.audit_filter)
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.table.selectRow(row)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def _show_result(self, text: str, ok: bool | None) -> None:
        colour = {True: "#1e6b2e", False: "#a61b1b", None: "palette(text)"}[ok]
        weight = "" if ok is None else " font-weight: bold;"
        self.result_label.setStyleSheet(f"color: {colour};{weight}")
        self.result_label.setText(text)
        self.result_label.setVisible(True)

    # ----- export ---------------------------------------------------------------------------

    def choose_export(self) -> None:
        """Ask where to save, then export the filtered entries."""
        suggested = f"Audit trail {london_today().isoformat()}.csv"
        path = save_file_name(
            self, "audit trail", "Export the audit trail", suggested, "CSV files (*.csv)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write the entries the filters show to ``path`` as CSV, on a worker thread."""
        if self.export_job is not None:
            return
        audit_filter = self.model.audit_filter
        audit = self._audit

        def work() -> tuple[Path, int]:
            entries = audit.entries(audit_filter, limit=None)
            write_atomically(path, audit.export_csv(entries))
            return path, len(entries)

        self.export_button.setEnabled(False)
        self._show_result(f"Saving the entries to {path.name}…", None)
        job = _Job(work, f"The audit trail could not be saved to {path.name}")
        job.signals.finished.connect(self._export_done)
        job.signals.failed.connect(self._export_failed)
        self.export_job = job
        self.pool.start(job)

    def _export_done(self, result: tuple[Path, int]) -> None:
        path, count = result
        self.export_job = None
        self.saved_to = path
        self.export_button.setEnabled(True)
        self.model.reload()  # the export itself is now in the trail
        self._show_count()
        self._show_result(f"Saved {count:,} audit entries to {path}.", True)

    def _export_failed(self, message: str) -> None:
        self.export_job = None
        self.export_button.setEnabled(True)
        self._show_result(message, False)

    def done(self, result: int) -> None:
        # Let a check or export that is still running finish before the window goes away.
        self.pool.waitForDone()
        super().done(result)


def _date_edit(parent: QWidget, day: date) -> QDateEdit:
    edit = QDateEdit(QDate(day.year, day.month, day.day), parent)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setCalendarPopup(True)
    edit.setEnabled(False)
    return edit


def _day(edit: QDateEdit) -> date:
    picked: date = edit.date().toPython()  # type: ignore[assignment]
    return picked


def open_audit_trail(parent: QWidget, services: Services) -> AuditTrailDialog | None:
    """Open the audit trail window, or say why the user may not see it."""
    dialog: AuditTrailDialog | None = None
    with refusals_shown(parent, "Audit trail"):
        dialog = AuditTrailDialog(services, parent)
    if dialog is not None:
        dialog.exec()
    return dialog
