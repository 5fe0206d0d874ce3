"""The "Today" view: actions due today and overdue across every open case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_date_time
from app.services.casebook import Services
from app.services.operations import OpChanges
from app.ui.signals import AppSignals
from app.ui.widgets import read_only_table

if TYPE_CHECKING:
    # The follow-up service (and its policy code) is loaded when Today is first filled,
    # just after the list's first paint.
    from app.services.workflow import DueItem

COLUMNS = ("Due", "Case", "Action")
OVERDUE = QColor("#a4262c")


class TodayView(QWidget):
    """Lists what is due and overdue; double-click (or Enter) opens the case.

    The list folds away to its one-line summary (``set_collapsed``) to give a small screen
    back to the case; the window remembers which way it was left.
    """

    case_selected = Signal(int)
    collapsed_changed = Signal(bool)

    def __init__(
        self,
        services: Services,
        signals: AppSignals,
        parent: QWidget | None = None,
        *,
        refresh: bool = True,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.items: list[DueItem] = []
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        self.fold_button = QToolButton(self)
        self.fold_button.setCheckable(True)
        self.fold_button.setAutoRaise(True)
        self.fold_button.toggled.connect(self._fold_toggled)
        self.table = read_only_table(COLUMNS, self)
        self.table.setAccessibleName("Actions due and overdue")
        self.table.setAccessibleDescription(
            "Actions due today and overdue across all open cases; press Enter to open the case."
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.cellActivated.connect(self._open)
        self.table.cellDoubleClicked.connect(self._open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(self.fold_button)
        top.addWidget(self.heading, 1)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self._fold_toggled(False)
        signals.operation_did_execute.connect(self._changed)
        if refresh:  # the main window reads the due list once the case list is painted
            self.refresh()

    def _changed(self, changes: OpChanges) -> None:
        # Today lists checklist actions and ladder steps of open cases: only a change to
        # those, or to which cases are open, can change it.
        if changes.workflow or changes.cases:
            self.refresh()

    def is_collapsed(self) -> bool:
        return self.fold_button.isChecked()

    def set_collapsed(self, collapsed: bool) -> None:
        """Show only the summary line (True) or the whole list (False)."""
        self.fold_button.setChecked(collapsed)

    def _fold_toggled(self, collapsed: bool) -> None:
        self.table.setVisible(not collapsed)
        self.fold_button.setArrowType(
            Qt.ArrowType.RightArrow if collapsed else Qt.ArrowType.DownArrow
        )
        label = "Show the list of actions" if collapsed else "Hide the list of actions"
        self.fold_button.setToolTip(label)
        self.fold_button.setAccessibleName(label)
        self.collapsed_changed.emit(collapsed)

    def refresh(self) -> None:
        """Read the due list again."""
        self.items = self.services.workflow.due()
        overdue = sum(1 for item in self.items if item.overdue)
        due_today = len(self.items) - overdue
        cases = len({item.case_id for item in self.items})
        if not self.items:
            self.heading.setText("No actions are due today and none is overdue.")
        else:
            actions = f"{overdue} action{'s' if overdue != 1 else ''} overdue"
            today = f"{due_today} due today"
            where = f"in {cases} case{'s' if cases != 1 else ''}"
            self.heading.setText(
                f"<b>{actions}</b>, {today}, {where}." if overdue else f"{today}, {where}."
            )
        self.heading.setToolTip(
            "Checklist actions (letters, re-checks, meetings) whose time has come. The case "
            "list counts cases past their follow-up date, which is a different number."
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
