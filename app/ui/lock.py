"""Locking the window: a blank screen asking for the password, after idle time or at once."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import AccountLockedError, CasebookError, SignInError
from app.services.casebook import Services

DEFAULT_IDLE_LOCK_MS = 5 * 60 * 1000

_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


class IdleWatcher(QObject):
    """Emits ``idle`` when nobody has touched the keyboard or mouse for ``timeout_ms``."""

    idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(1, timeout_ms))
        self.timer.timeout.connect(self.idle)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self.timer.isActive():
            self.timer.start()
        return False

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


class LockScreen(QWidget):
    """Shows nothing of the casebook: only who is signed in and a password box."""

    unlocked = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setObjectName("lock_screen")
        self.title = QLabel("Conduct Casebook is locked", self)
        self.title.setStyleSheet("font-size: 18pt; font-weight: 600;")
        self.who = QLabel(self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Your password")
        self.password.returnPressed.connect(self.try_unlock)
        self.unlock_button = QPushButton("Unlock", self)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.try_unlock)
        self.forgotten_button = QPushButton("Forgotten password…", self)
        self.forgotten_button.setAutoDefault(False)
        self.forgotten_button.clicked.connect(self.forgotten_password)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a4262c;")
        form = QFormLayout()
        form.addRow("Password:", self.password)
        box = QWidget(self)
        inner = QVBoxLayout(box)
        inner.addWidget(self.title)
        inner.addWidget(self.who)
        inner.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.forgotten_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        inner.addLayout(buttons)
        inner.addWidget(self.message)
        box.setMaximumWidth(460)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, alignment=Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

    def prepare(self) -> None:
        """Clear the box and say who must unlock."""
        self.who.setText(
            f"Signed in as {self.services.ctx.current_user.name}. "
            "Type your password to carry on where you were."
        )
        self.password.clear()
        self.message.clear()
        self.password.setFocus()

    def forgotten_password(self) -> None:
        """The recovery key sets a new password for the signed-in user and unlocks."""
        from app.ui.dialogs.sign_in import RecoveryDialog

        name = self.services.ctx.current_user.name
        if RecoveryDialog(self.services, name, self, name_fixed=True).exec():
            self.message.clear()
            self.unlocked.emit()

    def try_unlock(self) -> None:
        password = self.password.text()
        self.password.clear()
        try:
            self.services.users.check_password(password)
        except AccountLockedError as error:
            self.message.setText(error.message)
            return
        except SignInError:
            self.message.setText("That password is not right.")
            return
        except CasebookError as error:
            self.message.setText(error.message)
            return
        self.message.clear()
        self.unlocked.emit()
