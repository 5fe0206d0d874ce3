"""The Backup & Restore dialog: a backup made off the GUI thread appears in the list."""

from __future__ import annotations

import os
import re
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.services.casebook import Services
from app.ui.dialogs.backup import BackupDialog
from tests.conftest import WAIT_MS


def test_the_dialog_makes_a_backup_and_lists_it(
    qtbot,
    services: Services,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    dialog = BackupDialog(services)
    qtbot.addWidget(dialog)
    folder = tmp_path / "usb stick"
    dialog.folder_edit.setText(str(folder))
    dialog.refresh()
    assert dialog.table.rowCount() == 0
    assert "No backup" in dialog.status.text()
    dialog.show()
    qtbot.waitExposed(dialog)

    dialog.backup_button.click()
    assert not dialog.backup_button.isEnabled()  # the work runs on a worker thread
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=WAIT_MS)
    assert "Backup made and checked" in dialog.status.text()
    assert dialog.table.rowCount() == 1
    name = dialog.table.item(0, 0).text()
    assert name.startswith("casebook-backup-") and (folder / name).is_file()
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", dialog.table.item(0, 1).text())
    dialog.grab().save(str(tmp_path / "backup-dialog.png"))
    assert services.backups.last_good() is not None


def test_restore_asks_first_and_cancel_changes_nothing(
    qtbot,
    services: Services,
    tmp_path: Path,
    data_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    services.backups.backup(tmp_path / "backups")
    dialog = BackupDialog(services)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1  # the folder of the last good backup is offered

    def cancel() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox) and "Restore" in box.text()
        box.button(QMessageBox.StandardButton.Cancel).click()

    QTimer.singleShot(0, cancel)
    dialog.restore_selected()
    assert not list(data_dir.glob("before-restore-*"))


def _other_disk() -> Path | None:
    """A writable folder on another file system than the tests' temporary folder, if any."""
    import tempfile

    for candidate in ("/dev/shm", "/run/shm"):
        path = Path(candidate)
        if (
            path.is_dir()
            and os.access(path, os.W_OK)
            and path.stat().st_dev != Path(tempfile.gettempdir()).stat().st_dev
        ):
            return path
    return None


def test_a_folder_on_the_casebooks_own_disk_is_warned_about(
    qtbot,
    services: Services,
    tmp_path: Path,
    data_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    dialog = BackupDialog(services)
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(tmp_path / "backups on the same disk"))
    dialog.refresh()
    assert not dialog.advice.isHidden()
    assert "same disk as the casebook" in dialog.advice.text()
    other = _other_disk()
    if other is not None:
        dialog.folder_edit.setText(str(other / f"casebook-test-{os.getpid()}"))
        dialog.refresh()
        assert dialog.advice.isHidden()
        assert services.backups.folder_advice(other) is None


def test_suggested_drives_are_never_on_the_casebooks_disk(
    qtbot,
    services: Services,  # type: ignore[no-untyped-def]
) -> None:
    from app.ui.dialogs.backup import suggested_drives

    for label, folder in suggested_drives(services):
        assert services.backups.folder_advice(folder) is None
        assert "free" in label and folder.name == "Casebook backups"
