"""Password boxes shared by sign-in, recovery and the users screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from app.domain.access import check_password_strength
from app.domain.errors import ValidationError

REFUSED_COLOUR = "#a4262c"
ACCEPTED_COLOUR = "#107c10"


def password_box(parent: QWidget) -> QLineEdit:
    """A line edit that never shows what is typed."""
    box = QLineEdit(parent)
    box.setEchoMode(QLineEdit.EchoMode.Password)
    return box


def message_line(parent: QWidget, text: str = "") -> QLabel:
    """A dialog's line for one sentence (two lines tall, so the dialog does not jump)."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setMinimumHeight(label.fontMetrics().lineSpacing() * 2)
    return label


def say(label: QLabel, text: str, *, ok: bool = False) -> None:
    """Show one sentence in a dialog's message line: green when all is well, else red."""
    label.setText(text)
    label.setStyleSheet(f"color: {ACCEPTED_COLOUR if ok else REFUSED_COLOUR};")


class NewPasswordFields:
    """A new password typed twice; the strength check is said in one sentence as it is typed."""

    def __init__(
        self,
        form: QFormLayout,
        message: QLabel,
        user_name: Callable[[], str],
        parent: QWidget,
        label: str = "New password:",
    ) -> None:
        self.password = password_box(parent)
        self.again = password_box(parent)
        self._message = message
        self._user_name = user_name
        form.addRow(label, self.password)
        form.addRow("Type it again:", self.again)
        self.password.textChanged.connect(self.check)
        self.again.textChanged.connect(self.check)

    def check(self) -> None:
        """Say whether the password as typed so far would be accepted."""
        text = self.password.text()
        if not text:
            self._message.clear()
            return
        try:
            check_password_strength(text, self._user_name())
        except ValidationError as error:
            say(self._message, error.message)
            return
        if self.again.text() and self.again.text() != text:
            say(self._message, "The two passwords do not match yet.")
        else:
            say(self._message, "That password is strong enough.", ok=True)

    def value(self) -> str:
        """The new password, or a refusal when the two boxes differ."""
        if self.password.text() != self.again.text():
            raise ValidationError("The two passwords do not match; type them again.", "password")
        return self.password.text()

    def clear(self) -> None:
        self.password.clear()
        self.again.clear()
