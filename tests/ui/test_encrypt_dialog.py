"""The window's way to encrypt a casebook made before encryption at rest."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from app.config import prepare_data_dir
from app.services.casebook import open_casebook
from app.ui.dialogs.sign_in import EncryptCasebookDialog, RecoveryKeyDialog
from tests.security.test_encrypt_plain_casebook import OLD_PASSWORD, make_plain_casebook
from tests.ui.conftest import answer_next_dialog


def test_the_head_teacher_encrypts_from_the_window_and_sees_the_new_key(  # type: ignore[no-untyped-def]
    qtbot, tmp_path: Path
) -> None:
    folder = tmp_path / "casebook"
    make_plain_casebook(folder)
    dialog = EncryptCasebookDialog(prepare_data_dir(folder))
    qtbot.addWidget(dialog)
    dialog.password.setText("a wrong guess")
    dialog.try_encrypt()
    assert dialog.message.text() == "The user name or password is not right."
    assert dialog.result() == 0

    shown: list[str] = []

    def read(box: QWidget) -> None:
        assert isinstance(box, RecoveryKeyDialog)
        shown.append(box.key_label.text())
        box.reject()  # not until the key is said to be kept
        assert box.isVisible()
        box.kept.setChecked(True)
        box.done_button.click()

    answer_next_dialog(read, timeout_ms=500)  # encrypting takes seconds on a busy machine
    dialog.password.setText(OLD_PASSWORD)
    dialog.try_encrypt()
    assert dialog.recovery_key and dialog.recovery_key in shown[0]
    services = open_casebook(folder)
    try:
        services.users.sign_in("head", OLD_PASSWORD)
        assert services.cases.find_case("SM-2026-0001").title.startswith("Remarks")
    finally:
        services.close()
