"""Signing in at start, and setting up the head teacher's account on the first run."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, Qt
from PySide6.QtGui import (
    QCloseEvent,
    QFontDatabase,
    QGuiApplication,
    QKeyEvent,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.config import DataPaths
from app.domain.errors import CasebookError, ValidationError
from app.services.casebook import Services
from app.services.keys import normalise_recovery_key
from app.ui.dialogs.passwords import NewPasswordFields, message_line, password_box, say
from app.ui.widgets import run_while_busy

log = logging.getLogger(__name__)

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
        self,
        services: Services,
        name: str = "",
        hint: str = "",
        parent: QWidget | None = None,
        *,
        seal_later: bool = False,
    ) -> None:
        super().__init__(parent)
        self.services = services
        # The window's start seals what is left in clear once its list is painted.
        self.seal_later = seal_later
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
            self.services.users.sign_in(
                self.name.text(), self.password.text(), seal_later=self.seal_later
            )
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
            "Create the head teacher’s account. Choose a password of at least ten characters; "
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
        RecoveryKeyDialog(self.recovery_key, self).exec()
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
        RecoveryKeyDialog(
            self.recovery_key,
            self,
            intro="The casebook is now encrypted. This is its new recovery key; the old one "
            "no longer works.",
        ).exec()
        self.accept()


class RecoveryKeyDialog(QDialog):
    """The recovery key, shown once: print it, save it as a PDF or copy it, then say it is kept.

    The dialog cannot be dismissed (Enter, Escape, the close box) until the head teacher
    ticks that the key is kept, because a lost key cannot be shown again.
    """

    def __init__(self, key: str, parent: QWidget | None = None, *, intro: str = "") -> None:
        super().__init__(parent)
        self.key = key
        self.setWindowTitle("Recovery key")
        words = QLabel(
            (intro + " " if intro else "")
            + "Print this recovery key, or save it as a PDF and print that, and keep it in the "
            "school safe. It lets you set a new password if yours is forgotten, and it is "
            "shown only this once.",
            self,
        )
        words.setWordWrap(True)
        self.key_label = QLabel(key, self)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.key_label.setFont(font)
        self.key_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setStyleSheet("border: 1px solid #888; padding: 10px; background: white;")
        self.key_label.setAccessibleName("Recovery key")
        self.key_label.setAccessibleDescription(" ".join(key))
        self.print_button = QPushButton("&Print…", self)
        self.pdf_button = QPushButton("Save as P&DF…", self)
        self.copy_button = QPushButton("&Copy", self)
        for button in (self.print_button, self.pdf_button, self.copy_button):
            button.setAutoDefault(False)
        self.print_button.clicked.connect(self.print_key)
        self.pdf_button.clicked.connect(lambda: self.save_pdf())
        self.copy_button.clicked.connect(self.copy_key)
        self.kept = QCheckBox("I have &kept the recovery key somewhere safe", self)
        self.message = message_line(self)
        self.done_button = QPushButton("C&ontinue", self)
        self.done_button.setEnabled(False)
        self.done_button.setDefault(False)
        self.done_button.setAutoDefault(False)
        self.kept.toggled.connect(self.done_button.setEnabled)
        self.done_button.clicked.connect(self.accept)
        actions = QHBoxLayout()
        actions.addWidget(self.print_button)
        actions.addWidget(self.pdf_button)
        actions.addWidget(self.copy_button)
        actions.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.kept, 1)
        bottom.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.addWidget(words)
        layout.addWidget(self.key_label)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        self.setMinimumWidth(
            min(560, self.key_label.fontMetrics().horizontalAdvance(key + "MMMM") + 40)
        )
        self.print_button.setFocus()

    def sheet(self) -> QTextDocument:
        """The page printed or saved: what the key is for, the key itself, where it goes."""
        document = QTextDocument(self)
        document.setHtml(
            "<h1>Conduct Casebook recovery key</h1>"
            "<p>Keep this sheet in the school safe. With it the head teacher can set a new "
            "password if theirs is forgotten, and restore a backup.</p>"
            "<p style='font-family: monospace; font-size: 16pt; white-space: nowrap;'>"
            f"<b>{html.escape(self.key)}"
            "</b></p><p>Anyone holding this key and a copy of the casebook can read it: do "
            "not email it or leave it on a shared drive.</p>"
        )
        return document

    def pdf_bytes(self) -> bytes:
        """The sheet as an A4 PDF."""
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QPdfWriter(buffer)
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                QMarginsF(20, 20, 20, 20),
                QPageLayout.Unit.Millimeter,
            )
        )
        writer.setTitle("Conduct Casebook recovery key")
        self.sheet().print_(writer)
        buffer.close()
        return bytes(data.data())

    def print_key(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        if QPrintDialog(printer, self).exec() == QDialog.DialogCode.Accepted:
            self.sheet().print_(printer)
            say(self.message, "The recovery key was sent to the printer.", ok=True)

    def save_pdf(self, path: str | None = None) -> None:
        """Save the sheet as a PDF (asks where unless given a path)."""
        from app.ui.dialogs.audit_trail import write_atomically
        from app.ui.file_dialogs import save_file_name

        if not path:
            path = save_file_name(
                self,
                "recovery key",
                "Save the recovery key as a PDF",
                "Conduct Casebook recovery key.pdf",
                "PDF documents (*.pdf)",
            )
        if not path:
            return
        try:
            write_atomically(Path(path), self.pdf_bytes())
        except OSError as error:
            log.warning("Could not write the recovery key PDF: %s", error)
            say(self.message, f"{path} cannot be written ({error.strerror}).")
            return
        say(self.message, f"Saved to {path}. Print it, then delete the file.", ok=True)

    def copy_key(self) -> None:
        QGuiApplication.clipboard().setText(self.key)
        say(self.message, "Copied. Paste it where it will be printed, then clear it.", ok=True)

    def reject(self) -> None:
        # Escape and the close box only close once the key is kept.
        if self.kept.isChecked():
            super().accept()
            return
        say(self.message, "Tick that you have kept the key first: it cannot be shown again.")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.kept.isChecked():
            event.accept()
            return
        event.ignore()
        self.reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.kept.isChecked():
            self.reject()
            return
        super().keyPressEvent(event)
