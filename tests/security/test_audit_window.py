"""The audit trail window: a reported problem, and sealing the trail again."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.services.audit import HEAD_FILE
from app.services.casebook import Services
from app.ui.dialogs.audit_trail import AuditTrailDialog
from tests.conftest import WAIT_MS


def test_a_missing_head_file_is_reported_and_a_head_teacher_can_seal_again(
    qtbot: QtBot, services: Services, tmp_path: Path
) -> None:
    services.users.create_first_user("head", "tide-marble-orchard-42")
    services.ctx.audit("view case", "SM-2026-0001", "")
    (services.paths.root / HEAD_FILE).unlink()
    dialog = AuditTrailDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.start_check()
    qtbot.waitUntil(lambda: dialog.check_job is None, timeout=WAIT_MS)
    assert HEAD_FILE in dialog.result_label.text()
    assert dialog.reseal_button.isVisible()
    dialog.grab().save(str(tmp_path / "audit-trail-missing-head.png"))

    dialog.reseal()
    qtbot.waitUntil(
        lambda: dialog.check_job is None and "intact" in dialog.result_label.text(),
        timeout=20_000,
    )
    assert not dialog.reseal_button.isVisible()
    assert (services.paths.root / HEAD_FILE).exists()
    resealed = services.audit.entries(action="resealed")[0]
    assert HEAD_FILE in resealed.detail
    dialog.grab().save(str(tmp_path / "audit-trail-resealed.png"))
