"""The case list: search box, filters, counts and the lazily filled table."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from PySide6.QtCore import QItemSelectionModel, QMargins, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.categories import CATEGORY_INFO, Category
from app.domain.errors import ValidationError
from app.domain.records import CaseCounts, CaseFilter
from app.domain.status import STATUS_LABELS, CaseStatus
from app.domain.validation import check_search
from app.services.casebook import Services
from app.ui.models.case_table import (
    CASE_ID_ROLE,
    COLUMNS,
    FIRST_COLUMNS,
    CaseTableModel,
    overdue_date_text,
)
from app.ui.signals import AppSignals

# The search runs once the keystrokes already waiting are read: a burst of typing is one
# search, and a single keystroke is not held back (over a million cases one takes ~30 ms).
SEARCH_DELAY_MS = 0
_OPEN = "__open__"


class CaseListView(QWidget):
    """Finds cases; emits ``case_selected`` with the case id (or 0 for none)."""

    case_selected = Signal(int)
    counts_changed = Signal(object)

    def __init__(self, services: Services, signals: AppSignals, parent: QWidget | None = None):
        super().__init__(parent)
        self._services = services
        self.model = CaseTableModel(services.cases, self)
        # The totals are counted once at the start, and the whole list's length is their
        # total: over a million cases each count reads a whole index.
        starting = services.cases.counts(CaseFilter(), shown=0)
        self.model.known_whole_count = starting.total

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search reference, title, people, platform or handle")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search cases")

        self.status_filter = QComboBox(self)
        self.status_filter.setAccessibleName("Filter by status")
        self.status_filter.addItem("All statuses", None)
        self.status_filter.addItem("Open cases", _OPEN)
        for status in CaseStatus:
            self.status_filter.addItem(STATUS_LABELS[status], status.value)

        self.category_filter = QComboBox(self)
        self.category_filter.setAccessibleName("Filter by standard")
        self.category_filter.addItem("All standards", None)
        for category in Category:
            self.category_filter.addItem(CATEGORY_INFO[category].short_label, category.value)
            self.category_filter.setItemData(
                self.category_filter.count() - 1,
                CATEGORY_INFO[category].label,
                Qt.ItemDataRole.ToolTipRole,
            )

        self.overdue_only = QCheckBox("&Overdue only", self)
        self.overdue_only.setToolTip("Only cases past their follow-up date")
        self.repeat_authors_only = QCheckBox("Fre&quent authors", self)
        self.repeat_authors_only.setToolTip(
            "Only cases whose author is the author of another case as well"
        )
        self.in_evidence = QCheckBox("&Just in evidence", self)
        self.in_evidence.setToolTip(
            "Look for the words only in the evidence: text read from screenshots, photos, "
            "PDFs, emails and text files"
        )
        self.counts_label = QLabel(self)
        self.counts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.table = QTableView(self)
        self.viewport = _made_viewport(self.table)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)  # Tab leaves the list; arrows move in it
        self.table.verticalHeader().setVisible(False)
        # Fixed row heights let the view skip measuring 100,000 rows.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate(self.column_widths()):
            self.table.setColumnWidth(column, width)
        header.setStretchLastSection(True)
        header.setSortIndicator(len(COLUMNS) - 1, Qt.SortOrder.DescendingOrder)
        # Enabling sorting sorts once by the indicator: that is the list's first load.
        self.table.setSortingEnabled(True)
        self.model.known_whole_count = None  # the first load has used it (or never will)
        self.table.setAccessibleName("Cases")

        filters = QHBoxLayout()
        filters.addWidget(self.status_filter, 1)
        filters.addWidget(self.category_filter, 1)
        filters.addWidget(self.overdue_only)
        filters.addWidget(self.repeat_authors_only)
        # "Just in evidence" changes what the search looks in, so it sits beside the search.
        searching = QHBoxLayout()
        searching.addWidget(self.search, 1)
        searching.addWidget(self.in_evidence)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addLayout(searching)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.counts_label)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._search_timer.start)
        self.status_filter.currentIndexChanged.connect(self.apply_filter)
        self.category_filter.currentIndexChanged.connect(self.apply_filter)
        self.overdue_only.toggled.connect(self.apply_filter)
        self.repeat_authors_only.toggled.connect(self.apply_filter)
        self.in_evidence.toggled.connect(self.apply_filter)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.rowsInserted.connect(self._rows_counted)
        signals.data_changed.connect(self.refresh)

        self.counts = self._with_shown(starting)
        self._show_counts(self.counts)

    def column_widths(self) -> list[int]:
        """Starting widths measured in the window's font, so nothing is cut at any scale.

        The follow-up column fits an overdue date in bold; the status column the longest
        status.
        """
        metrics = self.table.fontMetrics()
        bold = self.table.font()
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        padding = 18

        def text(sample: str) -> int:
            return metrics.horizontalAdvance(sample) + padding

        measured = {
            "reference": text("SM-2026-00000"),
            "title": text("M" * 16),
            "status": max(text(label) for label in STATUS_LABELS.values()),
            "follow_up_due": bold_metrics.horizontalAdvance(_overdue_sample()) + padding,
            "poster": text("M" * 10),
            "platform": text("Facebook"),
            "categories": text("Abusive, Safeguarding"),
            "last_activity_at": text("30/11/2026 23:59"),
        }
        return [measured[key] for key, _label in COLUMNS]

    def first_columns_width(self) -> int:
        """Pixels the list needs to show reference, title, status and follow-up whole."""
        widths = [self.table.columnWidth(c) for c in range(FIRST_COLUMNS)]
        layout = self.layout()
        margins = layout.contentsMargins() if layout is not None else QMargins()
        return (
            sum(widths)
            + self.table.verticalScrollBar().sizeHint().width()
            + 2 * self.table.frameWidth()
            + margins.left()
            + margins.right()
        )

    def fit_first_columns(self, width: int) -> None:
        """Narrow the title so that the first four columns fit ``width`` pixels if they can."""
        excess = self.first_columns_width() - width
        if excess > 0:
            title = self.table.columnWidth(1)
            self.table.setColumnWidth(
                1, max(title - excess, self.fontMetrics().averageCharWidth() * 12)
            )

    # ----- filtering ----------------------------------------------------------------

    def current_filter(self) -> CaseFilter:
        status_value = self.status_filter.currentData()
        category_value = self.category_filter.currentData()
        statuses: frozenset[CaseStatus] = frozenset()
        open_only = False
        if status_value == _OPEN:
            open_only = True
        elif status_value:
            statuses = frozenset({CaseStatus(status_value)})
        return CaseFilter(
            text=self.search.text(),
            statuses=statuses,
            category=Category(category_value) if category_value else None,
            overdue_only=self.overdue_only.isChecked(),
            in_evidence=self.in_evidence.isChecked(),
            open_only=open_only,
            repeat_authors_only=self.repeat_authors_only.isChecked(),
        )

    def apply_filter(self) -> None:
        """Run the current search and filters now (the search box waits for a pause)."""
        self._search_timer.stop()
        selected = self.selected_case_id()
        case_filter = self.current_filter()
        try:
            check_search(case_filter.text)
        except ValidationError as error:
            self.counts_label.setText(error.message)
            return
        # The whole list (a search cleared) is as long as the total counted with the data.
        whole = case_filter == CaseFilter() and hasattr(self, "counts")
        self.model.set_filter(case_filter, self.counts.total if whole else None)
        # A filter changes only what is shown; the totals stay until the data changes.
        self._show_counts(self._with_shown(self.counts))
        self._reselect(selected, search_all=False)

    def refresh(self, _case_id: int = 0) -> None:
        """Re-read the list after data changed, keeping the selection."""
        selected = self.selected_case_id()
        self.model.reload()
        self._update_counts()
        self._reselect(selected)

    def _update_counts(self) -> None:
        self.counts = self._with_shown(
            self._services.cases.counts(self.model.case_filter, shown=self.model.rowCount())
        )
        self._show_counts(self.counts)

    def _with_shown(self, counts: CaseCounts) -> CaseCounts:
        return replace(counts, shown=self.model.rowCount(), shown_more=self.model.more_than_counted)

    def _rows_counted(self) -> None:
        """The list counted further as it was scrolled to the end of what was counted."""
        self._show_counts(self._with_shown(self.counts))

    def _show_counts(self, counts: CaseCounts) -> None:
        self.counts_label.setText(_counts_text(counts))
        self.counts_changed.emit(counts)

    # ----- selection ----------------------------------------------------------------

    def selected_case_id(self) -> int:
        index = self.table.currentIndex()
        if not index.isValid():
            return 0
        return int(self.model.data(index, CASE_ID_ROLE) or 0)

    def selected_case_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        ids = [self.model.data(self.model.index(r, 0), CASE_ID_ROLE) for r in rows]
        return [int(i) for i in ids if i]

    def select_row(self, row: int) -> None:
        if self.model.rowCount() == 0:
            self.case_selected.emit(0)
            return
        row = max(0, min(row, self.model.rowCount() - 1))
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    def select_case(self, case_id: int) -> bool:
        """Select a case if it is in the (filtered) list; True when found."""
        row = self.model.row_of_case(case_id)
        if row is None:
            # Its position is counted through the sort's index and its page read from the
            # case itself: never every id of a million-case list.
            row = self._services.cases.position_of_case(
                self.model.case_filter, self.model.case_sort, case_id
            )
            if row is None:
                return False
            self.model.place_case(case_id, row)
        self.select_row(row)
        return True

    def move_selection(self, step: int) -> None:
        """Next (+1) or previous (-1) case in the list."""
        current = self.table.currentIndex()
        self.select_row((current.row() if current.isValid() else -1) + step)

    def _reselect(self, case_id: int, *, search_all: bool = True) -> None:
        """Keep the case that was selected; else the first row.

        While typing in the search box (``search_all=False``) only the first page is
        looked at, so a keystroke never reads every matching id of a large casebook, and a
        case that no longer matches is closed rather than another opened in its place:
        opening a case reads all its tabs, too much work for every keystroke.
        """
        if case_id:
            self.model.case_at(0)  # loads the first page
            known = self.model.row_of_case(case_id) is not None
            if (known or search_all) and self.select_case(case_id):
                return
        if self.model.rowCount() and search_all:
            self.select_row(0)
        else:
            self.case_selected.emit(0)

    def _current_changed(self, current, _previous) -> None:  # type: ignore[no-untyped-def]
        self.case_selected.emit(self.selected_case_id() if current.isValid() else 0)


def _made_viewport(table: QTableView) -> QWidget:
    """A viewport for ``table`` made here, set up as Qt sets up the one it makes.

    The first time PySide is handed a widget it did not make (``table.viewport()``), it
    looks through every widget class for the widget's type, creating each with its
    enumerations: a hundred classes, most of them never used, before the list's first
    paint. A viewport made here is known to PySide already.
    """
    viewport = QWidget()
    viewport.setObjectName("qt_scrollarea_viewport")
    viewport.setBackgroundRole(QPalette.ColorRole.Base)
    viewport.setAutoFillBackground(True)
    viewport.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
    table.setViewport(viewport)
    return viewport


def _overdue_sample() -> str:
    return overdue_date_text(date(2026, 12, 30))


def _counts_text(counts: CaseCounts) -> str:
    shown = f"{counts.shown:,}+" if counts.shown_more else f"{counts.shown:,}"
    parts = [f"Showing {shown} of {counts.total:,} case{'s' if counts.total != 1 else ''}"]
    parts.append(f"{counts.open:,} open")
    if counts.overdue:
        parts.append(f"{counts.overdue:,} case{'s' if counts.overdue != 1 else ''} overdue")
    return " · ".join(parts)
