"""The case list's table model: pages of rows fetched on demand, never every case at once."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.domain.categories import CATEGORY_INFO
from app.domain.dates import format_date_time, format_short_date
from app.domain.records import CaseFilter, CaseRow, CaseSort
from app.domain.status import STATUS_LABELS
from app.services.cases import CaseService

# What a head needs to pick a case comes first, so that a 1366-pixel screen shows it whole.
COLUMNS: list[tuple[str, str]] = [
    ("reference", "Reference"),
    ("title", "Title"),
    ("status", "Status"),
    ("follow_up_due", "Follow up by"),
    ("poster", "Posted by"),
    ("platform", "Platform"),
    ("categories", "Standards"),
    ("last_activity_at", "Last activity"),
]
FIRST_COLUMNS = 4  # reference, title, status, follow-up: never scrolled out of sight

# A page is a few screens of rows: a search of a common word over a million cases walks
# the list until its first page is full, so a page of 100 is found in about half the time
# of 200 (next pages are read onwards from the last, by keyset, as the list scrolls).
PAGE_SIZE = 100
MAX_PAGES = 100  # ~10,000 rows kept in memory at most
# A filtered list is counted up to this many rows ("1,000+"); scrolling to its end counts on.
COUNT_BOUND = 1_000
CASE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
OVERDUE_BACKGROUND = QColor("#fdecea")
OVERDUE_TEXT = QColor("#a61b1b")

_Index = QModelIndex | QPersistentModelIndex
_ROLES_ANSWERED = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.FontRole,
        CASE_ID_ROLE,
    }
)


class CaseTableModel(QAbstractTableModel):
    """Rows come from ``CaseService.list_cases`` a page at a time and are cached (LRU)."""

    def __init__(self, cases: CaseService, parent: Any = None) -> None:
        super().__init__(parent)
        self._cases = cases
        self._filter = CaseFilter()
        self._sort = CaseSort()
        self._count = 0
        self._count_known = False  # _count holds the count of the current filter
        self._more = False  # more rows match than were counted
        self._pages: OrderedDict[int, list[tuple[CaseRow, tuple[str, ...]]]] = OrderedDict()
        # The first and last case of every page read, kept after the page itself is
        # dropped: the next page is read onwards from them (keyset), never by OFFSET.
        self._first_ids: dict[int, int] = {}
        self._last_ids: dict[int, int] = {}
        self._recent_page = -1
        # How many cases the whole (unfiltered) list holds, when the caller has just counted
        # them; used by the next reload only.
        self.known_whole_count: int | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    # ----- what the list shows --------------------------------------------------

    @property
    def case_filter(self) -> CaseFilter:
        return self._filter

    @property
    def case_sort(self) -> CaseSort:
        return self._sort

    def set_filter(self, case_filter: CaseFilter, known_count: int | None = None) -> None:
        """Show the cases matching ``case_filter``; ``known_count`` (how many match, when the
        caller already knows) saves counting them again."""
        self._filter = case_filter
        self.reload(known_count)

    @property
    def more_than_counted(self) -> bool:
        """True when the filter matches more rows than ``rowCount`` (counted to a bound)."""
        return self._more

    def reload(self, known_count: int | None = None) -> None:
        """Forget cached pages and re-count (after a filter change or a data change).

        A filtered list is counted only up to ``COUNT_BOUND`` rows: a common word over a
        million cases would otherwise be counted to the end on every keystroke.
        """
        self.beginResetModel()
        self._forget_pages()
        if known_count is None and self._filter == CaseFilter():
            known_count, self.known_whole_count = self.known_whole_count, None
        else:
            self.known_whole_count = None
        if known_count is not None:
            self._count, self._more = known_count, False
        else:
            self._count, self._more = self._counted(
                None if self._filter == CaseFilter() else COUNT_BOUND
            )
        self._count_known = True
        self.endResetModel()

    def _forget_pages(self) -> None:
        self._pages.clear()
        self._first_ids.clear()
        self._last_ids.clear()
        self._recent_page = -1

    def _counted(self, bound: int | None) -> tuple[int, bool]:
        count = self._cases.count_cases(self._filter, bound)
        if bound is not None and count > bound:
            return bound, True
        return count, False

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        """Count further when the view reaches the end of a list counted to a bound."""
        if parent.isValid() or not self._more:
            return
        self._grow_to(self._count * 10)

    def _grow_to(self, bound: int | None) -> None:
        count, more = self._counted(bound)
        if count > self._count:
            self.beginInsertRows(QModelIndex(), self._count, count - 1)
            self._count, self._more = count, more
            self.endInsertRows()
        else:
            self._more = more

    def row_of_case(self, case_id: int) -> int | None:
        """The row of a case among cached pages, or None when not loaded or not shown."""
        for number, page in self._pages.items():
            for offset, (row, _texts) in enumerate(page):
                if row.id == case_id:
                    return number * PAGE_SIZE + offset
        return None

    def place_case(self, case_id: int, row: int) -> None:
        """Read the page holding ``case_id``, which the service found at ``row``, onwards
        and backwards from the case itself (so a case far down a million rows is shown
        without reading the rows before it)."""
        if row >= self._count:
            self._grow_to(None)
        if not self._cases.pages_by_keyset(self._sort):
            return  # the page is read by its position when shown
        number, offset = divmod(row, PAGE_SIZE)
        backwards = CaseSort(self._sort.key, not self._sort.descending)
        before = self._cases.list_cases(self._filter, backwards, limit=offset, after=case_id)
        onwards = self._cases.list_cases(
            self._filter, self._sort, limit=PAGE_SIZE - offset, after=case_id, include_after=True
        )
        self._keep_page(number, [*reversed(before), *onwards])

    def _read_page(self, number: int) -> list[CaseRow]:
        """Page ``number`` of the list: onwards from the page before it (or backwards from
        the page after it) when one was read; by position only for a jump."""
        cases, flt, sort = self._cases, self._filter, self._sort
        if number == 0 or not cases.pages_by_keyset(sort):
            return cases.list_cases(flt, sort, number * PAGE_SIZE, PAGE_SIZE)
        if number - 1 in self._last_ids:
            return cases.list_cases(flt, sort, limit=PAGE_SIZE, after=self._last_ids[number - 1])
        if number + 1 in self._first_ids:
            backwards = CaseSort(sort.key, not sort.descending)
            rows = cases.list_cases(
                flt, backwards, limit=PAGE_SIZE, after=self._first_ids[number + 1]
            )
            return rows[::-1]
        # A jump (the scroll bar dragged): skip from the nearest page read before it.
        known = [n for n in self._last_ids if n < number]
        if not known:
            return cases.list_cases(flt, sort, number * PAGE_SIZE, PAGE_SIZE)
        start = max(known)
        return cases.list_cases(
            flt,
            sort,
            (number - start - 1) * PAGE_SIZE,
            PAGE_SIZE,
            after=self._last_ids[start],
        )

    def _keep_page(self, number: int, rows: list[CaseRow]) -> list[tuple[CaseRow, tuple[str, ...]]]:
        # A row's texts are formatted when it is first shown (_entry): a page holds 200
        # rows and a window shows about thirty.
        page: list[tuple[CaseRow, tuple[str, ...]]] = [(r, ()) for r in rows]
        self._pages[number] = page
        if rows:
            self._first_ids[number] = rows[0].id
            self._last_ids[number] = rows[-1].id
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        return page

    def case_at(self, row: int) -> CaseRow | None:
        found = self._entry(row)
        return found[0] if found is not None else None

    def _entry(self, row: int) -> tuple[CaseRow, tuple[str, ...]] | None:
        """The row and its column texts, formatted once when its page is read."""
        if row < 0 or row >= self._count:
            return None
        number, offset = divmod(row, PAGE_SIZE)
        page = self._pages.get(number)
        if page is None:
            page = self._keep_page(number, self._read_page(number))
        elif number != self._recent_page:
            self._pages.move_to_end(number)
        self._recent_page = number
        if offset >= len(page):
            return None
        entry = page[offset]
        if not entry[1]:
            entry = page[offset] = (entry[0], tuple(_display(entry[0], key) for key, _ in COLUMNS))
        return entry

    # ----- Qt model interface -----------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Painting asks every cell for a dozen roles; answer the unused ones at once.
        if role not in _ROLES_ANSWERED or not index.isValid():
            return None
        entry = self._entry(index.row())
        if entry is None:
            return None
        row, texts = entry
        if role == Qt.ItemDataRole.DisplayRole:
            return texts[index.column()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "categories":
                return "\n".join(CATEGORY_INFO[c].label for c in sorted(row.categories))
            if key == "follow_up_due" and row.overdue:
                return "Overdue: the follow-up date has passed."
            return texts[index.column()]
        if role == CASE_ID_ROLE:
            return row.id
        if row.overdue:
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(OVERDUE_BACKGROUND)
            if role == Qt.ItemDataRole.ForegroundRole and key in ("follow_up_due", "status"):
                return QBrush(OVERDUE_TEXT)
            if role == Qt.ItemDataRole.FontRole and key == "follow_up_due":
                return self._bold
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = CaseSort(
            key=COLUMNS[column][0], descending=order == Qt.SortOrder.DescendingOrder
        )
        # Another order shows the same rows: the count stands (over a million cases on a
        # server, counting again took 0.1-0.2 s at every start, where the header is restored).
        self.reload(self._count if self._count_known and not self._more else None)


def overdue_date_text(day: date | None) -> str:
    """A follow-up date that has passed, as the list shows it."""
    return f"{format_short_date(day)} (overdue)"


def _display(row: CaseRow, key: str) -> str:
    if key == "reference":
        return row.reference
    if key == "title":
        return row.title
    if key == "poster":
        return row.poster
    if key == "platform":
        return row.platform
    if key == "categories":
        return ", ".join(CATEGORY_INFO[c].short_label for c in sorted(row.categories))
    if key == "status":
        return STATUS_LABELS[row.status]
    if key == "follow_up_due":
        return (
            overdue_date_text(row.follow_up_due)
            if row.overdue
            else format_short_date(row.follow_up_due)
        )
    return format_date_time(row.last_activity_at)
