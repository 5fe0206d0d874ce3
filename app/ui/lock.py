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

    def __init__(
        self, timeout_ms: int, parent: QObject | None = None, *, watching: bool = True
    ) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(1, timeout_ms))
        self.timer.timeout.connect(self.idle)
        if watching:
            self.watch()
        self.timer.start()

    def watch(self) -> None:
        """Start seeing the keyboard and mouse (every event of the application)."""
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self.timer.isActive():
            self.timer.start()
        return False

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


_INPUT = {
    QEvent.Type.KeyPress,
    QEvent.Type.KeyRelease,
    QEvent.Type.ShortcutOverride,
    QEvent.Type.Shortcut,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.MouseButtonDblClick,
    QEvent.Type.Wheel,
    QEvent.Type.ContextMenu,
    QEvent.Type.DragEnter,
    QEvent.Type.DragMove,
    QEvent.Type.Drop,
    QEvent.Type.TouchBegin,
    QEvent.Type.TabletPress,
}


class LockGuard(QObject):
    """While the window is locked, input reaches the lock screen and nothing else.

    Everything else in the application (a table under a dock, a menu shortcut, a dialog
    hidden by the lock) is ignored, so nothing can be opened or changed behind the lock.
    Dialogs opened from the lock screen itself (the recovery key) are part of it.
    """

    def __init__(self, screen: QWidget) -> None:
        super().__init__(screen)
        self.screen = screen

    def allowed(self, target: QObject, event: QEvent) -> bool:
        if not isinstance(target, QWidget):
            # Window-system windows pass input on to their widgets, which are judged then;
            # a shortcut goes to its action or QShortcut, and every one is off while locked.
            return event.type() != QEvent.Type.Shortcut
        widget: QWidget | None = target
        while widget is not None:
            if widget is self.screen:
                return True
            widget = widget.parentWidget()
        return False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT and not self.allowed(watched, event):
            event.accept()
            return True
        return False

    def engage(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def release(self) -> None:
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
        self.who.setWordWrap(True)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Your password")
        self.password.setAccessibleName("Password")
        self.password.returnPressed.connect(self.try_unlock)
        self.unlock_button = QPushButton("&Unlock", self)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.try_unlock)
        self.forgotten_button = QPushButton("&Forgotten password…", self)
        self.forgotten_button.setAutoDefault(False)
        self.forgotten_button.clicked.connect(self.forgotten_password)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a4262c;")
        form = QFormLayout()
        form.addRow("&Password:", self.password)
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
        box.setFixedWidth(460)  # a fixed width lets the wrapped line take its full height
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
