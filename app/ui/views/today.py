"""The "Today" view: actions due today and overdue across every open case."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_date_time
from app.services.casebook import Services
from app.services.workflow import DueItem
from app.ui.signals import AppSignals
from app.ui.widgets import read_only_table

COLUMNS = ("Due", "Case", "Action")
OVERDUE = QColor("#a4262c")


class TodayView(QWidget):
    """Lists what is due and overdue; double-click (or Enter) opens the case."""

    case_selected = Signal(int)

    def __init__(
        self, services: Services, signals: AppSignals, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.items: list[DueItem] = []
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        self.table = read_only_table(COLUMNS, self)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.cellActivated.connect(self._open)
        self.table.cellDoubleClicked.connect(self._open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.table)
        signals.data_changed.connect(lambda _case_id: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        """Read the due list again."""
        self.items = self.services.workflow.due()
        overdue = sum(1 for item in self.items if item.overdue)
        due_today = len(self.items) - overdue
        if not self.items:
            self.heading.setText("Nothing is due today and nothing is overdue.")
        else:
            self.heading.setText(
                f"<b>{overdue} overdue</b>, {due_today} due today."
                if overdue
                else f"{due_today} due today."
            )
        self.table.setRowCount(len(self.items))
        bold = QFont()
        bold.setBold(True)
        for row, item in enumerate(self.items):
            due = "Overdue since " if item.overdue else "Today "
            due += (
                format_date_time(item.due_at)[-5:]
                if not item.overdue
                else format_date_time(item.due_at)
            )
            cells = (due, f"{item.reference} {item.title}", item.label)
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                if item.overdue:
                    cell.setForeground(QBrush(OVERDUE))
                    cell.setFont(bold)
                cell.setData(Qt.ItemDataRole.UserRole, item.case_id)
                self.table.setItem(row, column, cell)

    def _open(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.items):
            self.case_selected.emit(self.items[row].case_id)
