"""The retention review dialog, as a head teacher sees it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.services.casebook import Services
from app.ui.dialogs.retention import RetentionDialog
from app.ui.signals import AppSignals
from tests.retention.conftest import Filled


def test_dialog_lists_closed_cases_and_holds(
    qtbot: QtBot, services: Services, filled: Filled, tmp_path: Path
) -> None:
    dialog = RetentionDialog(services, AppSignals())
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 0
    assert dialog.empty.text() == "No closed case is due for review."
    dialog.show_all.setChecked(True)
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 3).text() == "24/11/2032"
    dialog.table.selectRow(0)
    assert dialog.delete_button.isEnabled()
    services.retention.set_legal_hold(filled.closed_id, "Police enquiry")
    dialog.refresh()
    dialog.table.selectRow(0)
    assert dialog.table.item(0, 5).text() == "Police enquiry"
    assert not dialog.delete_button.isEnabled()
    assert dialog.lift_button.isEnabled()
    dialog.show()
    dialog.grab().save(str(tmp_path / "retention.png"))
