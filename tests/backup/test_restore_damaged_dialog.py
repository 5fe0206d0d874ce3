"""The window's way back when the casebook will not open: restore a backup from its dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from app.domain.errors import DatabaseDamagedError
from app.services.casebook import Services, open_casebook
from app.ui.dialogs.backup import RestoreDamagedDialog
from tests.ui.conftest import answer_next_dialog

PASSWORD = "tide-marble-orchard-42"


def test_a_ruined_database_is_restored_from_the_window(  # type: ignore[no-untyped-def]
    qtbot, services: Services, data_dir: Path, tmp_path: Path
) -> None:
    recovery = services.users.create_first_user("head", PASSWORD)
    kept = services.cases.open_case(_draft("Kept in the backup")).reference
    archive = services.backups.backup(tmp_path / "backups").path
    services.close()
    database = data_dir / "casebook.sqlite3"
    database.write_bytes(b"\0" * database.stat().st_size)
    ruined = open_casebook(data_dir)
    try:
        try:
            ruined.users.sign_in("head", PASSWORD)
            raise AssertionError("a ruined database opened")
        except DatabaseDamagedError as error:
            problem = error.message
    finally:
        ruined.close()

    dialog = RestoreDamagedDialog(data_dir, problem)
    qtbot.addWidget(dialog)
    dialog.file.setText(str(archive))
    dialog.secret.setText("not the password")
    dialog.try_restore()
    assert "not right" in dialog.message.text()
    assert database.read_bytes() == b"\0" * database.stat().st_size

    said: list[str] = []

    def read(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        said.append(box.text())
        box.accept()

    answer_next_dialog(read, 500)  # the restore may take seconds on a busy machine
    dialog.use_recovery.setChecked(True)
    dialog.secret.setText(recovery)
    dialog.try_restore()
    assert said and "has been restored from" in said[0]
    again = open_casebook(data_dir)
    try:
        again.users.sign_in("head", PASSWORD)
        assert again.cases.find_case(kept).title == "Kept in the backup"
    finally:
        again.close()


def _draft(title: str):  # type: ignore[no-untyped-def]
    from app.domain.categories import Category
    from app.domain.records import CaseDraft

    return CaseDraft(title=title, categories=frozenset({Category.ABUSIVE}))
