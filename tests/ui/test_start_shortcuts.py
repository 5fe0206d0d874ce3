"""What the window does differently to paint its list sooner must not show: the case list's
own viewport paints exactly as the one Qt makes."""

from __future__ import annotations

from PySide6.QtGui import QImage, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTableView

from app.ui.views.case_list import _made_viewport


def _picture(qtbot, widget) -> QImage:  # type: ignore[no-untyped-def]
    widget.resize(420, 260)
    widget.show()
    qtbot.waitExposed(widget)
    return widget.grab().toImage()


def _table(qtbot, own_viewport: bool) -> QTableView:  # type: ignore[no-untyped-def]
    model = QStandardItemModel(0, 3)
    for row in range(12):
        model.appendRow(
            [QStandardItem(f"SM-2026-{row:04d}"), QStandardItem("New"), QStandardItem("")]
        )
    table = QTableView()
    qtbot.addWidget(table)
    if own_viewport:
        _made_viewport(table)
    table.setModel(model)
    table.setAlternatingRowColors(True)
    table.setProperty("keep", model)  # the model lives as long as the table
    return table


def test_the_case_lists_own_viewport_paints_as_the_one_qt_makes(qtbot) -> None:  # type: ignore[no-untyped-def]
    qts = _table(qtbot, own_viewport=False)
    ours = _table(qtbot, own_viewport=True)
    assert ours.viewport().objectName() == qts.viewport().objectName()
    assert _picture(qtbot, ours) == _picture(qtbot, qts)
