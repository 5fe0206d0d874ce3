"""Signing in at start, and setting up the head teacher's account on the first run."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app.config import DataPaths
from app.domain.errors import CasebookError, ValidationError
from app.services.casebook import Services
from app.services.keys import normalise_recovery_key
from app.ui.dialogs.passwords import NewPasswordFields, message_line, password_box, say
from app.ui.widgets import run_while_busy

RECOVERY_KEY_EXAMPLE = "ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2-34567"


def _lay_out(
    dialog: QDialog,
    intro: str,
    form: QFormLayout,
    message: QLabel,
    ok_text: str,
    on_ok: Callable[[], None],
) -> QDialogButtonBox:
    """The one shape of these dialogs: a few words, the fields, a message line, the buttons."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(on_ok)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    if intro:
        words = QLabel(intro, dialog)
        words.setWordWrap(True)
        layout.addWidget(words)
    layout.addLayout(form)
    layout.addWidget(message)
    layout.addWidget(buttons)
    return buttons


class SignInDialog(QDialog):
    """User name and password; wrong ones are said so in the dialog, and wait as told."""

    def __init__(
        self, services: Services, name: str = "", hint: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Sign in to Conduct Casebook")
        self.setMinimumWidth(420)
        self.name = QLineEdit(name, self)
        self.password = password_box(self)
        self.message = message_line(self, hint)
        form = QFormLayout()
        form.addRow("User name:", self.name)
        form.addRow("Password:", self.password)
        buttons = _lay_out(self, "", form, self.message, "Sign in", self.try_sign_in)
        self.forgotten_button = buttons.addButton(
            "&Forgotten password…", QDialogButtonBox.ButtonRole.ResetRole
        )
        self.forgotten_button.setAutoDefault(False)
        self.forgotten_button.clicked.connect(self.forgotten_password)
        (self.password if name else self.name).setFocus()

    def try_sign_in(self) -> None:
        try:
            self.services.users.sign_in(self.name.text(), self.password.text())
        except CasebookError as error:
            self.password.clear()
            say(self.message, error.message)
            return
        self.accept()

    def forgotten_password(self) -> None:
        """Set a new password with the recovery key; on success the user is signed in."""
        dialog = RecoveryDialog(self.services, self.name.text(), self)
        if dialog.exec():
            self.accept()


class RecoveryDialog(QDialog):
    """Forgotten password: the recovery key from the school safe sets a new one and signs in."""

    def __init__(
        self,
        services: Services,
        name: str = "",
        parent: QWidget | None = None,
        *,
        name_fixed: bool = False,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Set a new password with the recovery key")
        self.setMinimumWidth(520)
        self.name = QLineEdit(name, self)
        # On the lock screen only the signed-in user's password may be reset.
        self.name.setReadOnly(name_fixed)
        self.key = QLineEdit(self)
        self.key.setPlaceholderText(RECOVERY_KEY_EXAMPLE)
        self.key.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.key.setMinimumWidth(
            self.key.fontMetrics().horizontalAdvance(RECOVERY_KEY_EXAMPLE + "MM")
        )
        self.message = message_line(self)
        form = QFormLayout()
        form.addRow("User name:", self.name)
        form.addRow("Recovery key:", self.key)
        self.passwords = NewPasswordFields(form, self.message, self.name.text, self)
        _lay_out(
            self,
            "Type the recovery key that was printed when the casebook was set up (it is kept "
            "in the school safe), then choose a new password. This also unlocks the account.",
            form,
            self.message,
            "Set password and sign in",
            self.try_reset,
        )
        (self.key if name else self.name).setFocus()

    def try_reset(self) -> None:
        name = self.name.text()
        key = normalise_recovery_key(self.key.text())
        try:
            if not name.strip():
                raise ValidationError("Enter your user name.", "name")
            if len(key) != 30:
                raise ValidationError(
                    "A recovery key has six groups of five letters and digits, like "
                    f"{RECOVERY_KEY_EXAMPLE}.",
                    "key",
                )
            password = self.passwords.value()
            self.services.users.reset_password(name, self.key.text(), password)
        except CasebookError as error:
            say(self.message, error.message)
            return
        try:
            self.services.users.sign_in(name, password)
        except CasebookError as error:
            # The password is set; the sign-in dialog is the place to try again.
            say(self.message, error.message)
            return
        self.accept()


class FirstUserDialog(QDialog):
    """First run: the head teacher chooses a user name and password; the recovery key follows."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.recovery_key = ""
        self.setWindowTitle("Set up Conduct Casebook")
        self.setMinimumWidth(460)
        self.name = QLineEdit("head", self)
        self.password = password_box(self)
        self.again = password_box(self)
        self.message = message_line(self)
        form = QFormLayout()
        form.addRow("User name:", self.name)
        form.addRow("Password:", self.password)
        form.addRow("Password again:", self.again)
        _lay_out(
            self,
            "Create the head teacher's account. Choose a password of at least ten characters; "
            "a few unrelated words make a strong one.",
            form,
            self.message,
            "Create account",
            self.try_create,
        )
        self.password.setFocus()

    def try_create(self) -> None:
        try:
            if self.password.text() != self.again.text():
                raise ValidationError("The two passwords do not match.")
            self.recovery_key = self.services.users.create_first_user(
                self.name.text(), self.password.text()
            )
        except CasebookError as error:
            say(self.message, error.message)
            return
        QMessageBox.information(
            self,
            "Recovery key",
            "Print this recovery key and keep it in the school safe. It is shown only once; "
            "it lets you set a new password if yours is forgotten.\n\n" + self.recovery_key,
        )
        self.accept()


class EncryptCasebookDialog(QDialog):
    """A casebook from before encryption: its head teacher signs in once to encrypt it."""

    def __init__(self, paths: DataPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.recovery_key = ""
        self.setWindowTitle("Encrypt the casebook")
        self.setMinimumWidth(480)
        self.name = QLineEdit("head", self)
        self.password = password_box(self)
        self.message = message_line(self)
        form = QFormLayout()
        form.addRow("User name:", self.name)
        form.addRow("Password:", self.password)
        _lay_out(
            self,
            "This casebook was made before Conduct Casebook encrypted its records. Sign in "
            "as the head teacher, with your current password, to encrypt it now. Other "
            "users will then need a new password from you.",
            form,
            self.message,
            "Encrypt the casebook",
            self.try_encrypt,
        )
        self.password.setFocus()

    def try_encrypt(self) -> None:
        from app.services.legacy import encrypt_casebook

        name, password = self.name.text(), self.password.text()
        try:
            self.recovery_key = run_while_busy(
                self,
                "Encrypting the casebook; this takes a moment for every thousand files…",
                lambda: encrypt_casebook(self.paths, name, password),
            )
        except CasebookError as error:
            say(self.message, error.message)
            return
        QMessageBox.information(
            self,
            "New recovery key",
            "The casebook is now encrypted. Print this new recovery key and keep it in the "
            "school safe; it is shown only once, and the old one no longer works.\n\n"
            + self.recovery_key,
        )
        self.accept()
