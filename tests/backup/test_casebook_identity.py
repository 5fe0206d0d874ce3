"""The casebook's identity: made with it, kept in its key file (or the server's keyring
table), checked with its key, and named in every backup it makes."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from app.db.keyring_table import KeyringTable
from app.domain.errors import BackupError, CasebookError
from app.security.keyring import Keyring, derived_identity
from app.services.casebook import Services, open_casebook, restore_casebook
from app.ui.dialogs.backup import BackupDialog, ConfirmHeadDialog
from tests.backup.test_hostile_backups import OTHER_PASSWORD, PASSWORD, case_count
from tests.conftest import WAIT_MS
from tests.ui.conftest import answer_next_dialog

# Each step may wait behind Argon2 and the backup's checks on a busy machine: up to 40
# tries this far apart, so a box is never left open with nobody to answer it.
PATIENCE_MS = 500


def _keyring(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "casebook.keys").read_bytes()))


def test_a_new_casebook_has_a_random_identity_that_its_backups_name(
    services: Services, tmp_path: Path
) -> None:
    services.users.create_first_user("head", PASSWORD)
    stored = _keyring(services.paths.root)["identity"]
    key = services.data_key
    assert key is not None
    assert len(stored) == 32 and stored != derived_identity(key)
    archive = services.backups.backup(tmp_path / "backups").path
    with zipfile.ZipFile(archive) as zipped:
        assert json.loads(zipped.read("manifest.json"))["casebook_id"] == stored
    other = open_casebook(tmp_path / "other")
    try:
        assert _keyring(tmp_path / "other")["identity"] != stored
    finally:
        other.close()


def test_a_casebook_on_the_server_keeps_its_identity_in_the_keyring_table(
    postgres_server: Any, tmp_path: Path
) -> None:
    services = open_casebook(tmp_path / "pc", database_url=postgres_server.new_database())
    try:
        services.users.create_first_user("head", PASSWORD)
        raw = KeyringTable(services.engine).read()
        assert raw is not None
        keyring = Keyring.parse(raw)
        key = services.data_key
        assert key is not None
        assert keyring.identity and keyring.casebook_identity(key) == keyring.identity
    finally:
        services.close()


def test_an_altered_identity_in_the_key_file_is_refused(services: Services, tmp_path: Path) -> None:
    services.users.create_first_user("head", PASSWORD)
    archive = services.backups.backup(tmp_path / "backups").path
    services.close()
    keys = services.paths.keyring
    document = _keyring(services.paths.root)
    document["identity"] = "0" * 32
    keys.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CasebookError, match="damaged"):
        restore_casebook(services.paths.root, archive, "head", PASSWORD)
    assert not list(services.paths.root.glob("before-restore-*"))


def test_with_its_key_file_lost_a_casebook_takes_only_its_own_backup(
    services: Services, tmp_path: Path
) -> None:
    services.users.create_first_user("head", PASSWORD)
    ours = services.backups.backup(tmp_path / "backups").path
    services.close()
    elsewhere = open_casebook(tmp_path / "elsewhere")
    elsewhere.users.create_first_user("head", OTHER_PASSWORD)
    theirs = elsewhere.backups.backup(tmp_path / "theirs").path
    elsewhere.close()
    services.paths.keyring.unlink()

    with pytest.raises(BackupError, match="another casebook"):
        restore_casebook(services.paths.root, theirs, "head", OTHER_PASSWORD)
    assert not services.paths.keyring.exists()
    restore_casebook(services.paths.root, ours, "head", PASSWORD)
    again = open_casebook(services.paths.root)
    try:
        again.users.sign_in("head", PASSWORD)
        assert case_count(again) == 3
    finally:
        again.close()


def test_the_window_asks_the_head_teacher_to_confirm_a_restore(  # type: ignore[no-untyped-def]
    qtbot, services: Services, tmp_path: Path
) -> None:
    services.users.create_first_user("head", PASSWORD)
    services.backups.backup(tmp_path / "backups")
    dialog = BackupDialog(services)
    qtbot.addWidget(dialog)
    said: list[str] = []

    def confirm_with(secret: str) -> None:
        def yes(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            box.button(QMessageBox.StandardButton.Yes).click()
            answer_next_dialog(type_secret, PATIENCE_MS)

        def type_secret(confirm: QWidget) -> None:
            assert isinstance(confirm, ConfirmHeadDialog)
            assert confirm.secret_label.text() == "&Password:"
            confirm.secret.setText(secret)
            confirm.accept()
            answer_next_dialog(read, PATIENCE_MS)  # after Argon2 and the checks

        def read(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            said.append(box.text())
            box.accept()

        answer_next_dialog(yes, PATIENCE_MS)
        dialog.restore_selected()

    confirm_with("not the password")
    qtbot.waitUntil(lambda: bool(said), timeout=WAIT_MS)
    assert "not right" in said[-1] and not list(services.paths.root.glob("before-*"))
    confirm_with(PASSWORD)
    qtbot.waitUntil(lambda: len(said) == 2, timeout=WAIT_MS)
    assert "has been restored from" in said[-1]
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_an_office_user_who_edits_their_role_in_the_database_still_cannot_restore(
    services: Services, tmp_path: Path
) -> None:
    """The role column is readable and writable with the data key every user holds; the
    keyring's sealed safeguarding key is what proves a head teacher."""
    from app.db.engine import connect_encrypted
    from app.domain.access import Role
    from app.domain.errors import SignInError
    from app.security.keyring import user_key

    services.users.create_first_user("head", PASSWORD)
    services.users.add_user("office", Role.OFFICE, OTHER_PASSWORD)
    archive = services.backups.backup(tmp_path / "backups").path
    key = services.data_key
    assert key is not None
    services.close()
    connection = connect_encrypted(services.paths.database, key)
    try:
        connection.execute(
            "UPDATE users SET role = 'head' WHERE name_key = ?", (user_key("office"),)
        )
        connection.commit()
    finally:
        connection.close()
    with pytest.raises(SignInError, match="not the head teacher"):
        restore_casebook(services.paths.root, archive, "office", OTHER_PASSWORD)
    assert not list(services.paths.root.glob("before-restore-*"))
    # The head teacher still can.
    restore_casebook(services.paths.root, archive, "head", PASSWORD)
    assert list(services.paths.root.glob("before-restore-*"))
