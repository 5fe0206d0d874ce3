"""Users: the head teacher adds users, unlocks accounts, sets passwords and changes roles."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.access import ROLE_LABELS, Permission, Role, UserInfo
from app.domain.dates import format_date_time
from app.domain.errors import AccountLockedError, CasebookError, SignInError
from app.services.casebook import Services
from app.ui.dialogs.passwords import NewPasswordFields, message_line, password_box, say
from app.ui.errors import show_refusal
from app.ui.signals import AppSignals
from app.ui.widgets import read_only_table

COLUMNS = ("Name", "Role", "Account", "Last signed in")
LOCKED = "Locked"
ACTIVE = "Can sign in"
DISABLED = "Disabled"


def open_users_screen(services: Services, signals: AppSignals, parent: QWidget | None) -> None:
    """Open the users screen, or say clearly why this user may not."""
    try:
        services.users.list_users()
    except CasebookError as error:
        show_refusal(parent, error, "Users")
        return
    UsersDialog(services, signals, parent).exec()


def _role_box(parent: QWidget, current: Role = Role.OFFICE) -> QComboBox:
    box = QComboBox(parent)
    for role in Role:
        box.addItem(ROLE_LABELS[role], role)
    box.setCurrentIndex(list(Role).index(current))
    return box


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.rejected.connect(dialog.reject)
    return buttons


class UsersDialog(QDialog):
    """Every user with their role, whether locked, and when they last signed in."""

    def __init__(
        self, services: Services, signals: AppSignals, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.signals = signals
        self.users: list[UserInfo] = []
        self.setWindowTitle("Users")
        self.resize(780, 420)
        intro = QLabel(
            "Each person signs in with their own name and password. Office staff see cases and "
            "letters but not safeguarding cases; read-only users see governors’ reports only.",
            self,
        )
        intro.setWordWrap(True)
        self.table = read_only_table(COLUMNS, self)
        self.table.setAccessibleName("Users")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.change_role())
        self.add_button = QPushButton("&Add user…", self)
        self.unlock_button = QPushButton("&Unlock", self)
        self.set_password_button = QPushButton("Set a new &password…", self)
        self.role_button = QPushButton("Change &role…", self)
        self.disable_button = QPushButton("&Disable…", self)
        self.disable_button.setToolTip(
            "A leaver can no longer sign in; their entries in the audit trail are kept. "
            "Set a new password to let them back in."
        )
        self.disable_button.clicked.connect(self.disable)
        self.my_password_button = QPushButton("Change &my password…", self)
        self.add_button.clicked.connect(self.add_user)
        self.unlock_button.clicked.connect(self.unlock)
        self.set_password_button.clicked.connect(self.set_password)
        self.role_button.clicked.connect(self.change_role)
        self.my_password_button.clicked.connect(self.change_my_password)
        row = QHBoxLayout()
        for button in (
            self.add_button,
            self.unlock_button,
            self.set_password_button,
            self.role_button,
            self.disable_button,
        ):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.my_password_button)
        self.message = message_line(self)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self.refresh()

    # ----- the list -------------------------------------------------------------------

    def refresh(self, select: str = "") -> None:
        """Read the users again, keeping (or moving to) the chosen one."""
        current = self.selected()
        keep = select or (current.name if current else "")
        self.users = self.services.users.list_users()
        me = self.services.ctx.current_user.name
        self.table.setRowCount(len(self.users))
        for row, user in enumerate(self.users):
            values = (
                user.name + (" (you)" if user.name == me else ""),
                ROLE_LABELS[user.role],
                DISABLED if user.disabled else LOCKED if user.locked else ACTIVE,
                format_date_time(user.last_sign_in_at) or "Never",
            )
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if column == 2 and user.locked:
                    cell.setForeground(QBrush(QColor("#a4262c")))
                    font = QFont(cell.font())
                    font.setBold(True)
                    cell.setFont(font)
                self.table.setItem(row, column, cell)
        self.table.resizeColumnsToContents()
        if not self.select_user(keep):
            self.table.clearSelection()
        self._update_buttons()

    def select_user(self, name: str) -> bool:
        """Select the row of the user called ``name``; False when there is none."""
        for row, user in enumerate(self.users):
            if user.name.casefold() == name.casefold():
                self.table.selectRow(row)
                return True
        return False

    def selected(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.users):
            return None
        return self.users[rows[0].row()]

    def row_of(self, name: str) -> tuple[str, ...]:
        """What the table shows for ``name`` (for tests and screen readers alike)."""
        for row, user in enumerate(self.users):
            if user.name == name:
                cells = (self.table.item(row, c) for c in range(len(COLUMNS)))
                return tuple(cell.text() if cell else "" for cell in cells)
        return ()

    def _update_buttons(self) -> None:
        user = self.selected()
        mine = user is not None and user.name == self.services.ctx.current_user.name
        self.unlock_button.setEnabled(user is not None and user.locked)
        self.set_password_button.setEnabled(user is not None and not mine)
        self.set_password_button.setToolTip(
            "For your own password use Change my password." if mine else ""
        )
        self.role_button.setEnabled(user is not None)
        self.disable_button.setEnabled(user is not None and not mine and not user.disabled)

    def _done(self, text: str, select: str = "") -> None:
        self.refresh(select)
        if not self.services.ctx.may(Permission.MANAGE_USERS):
            # The user gave up their own head teacher role: this screen is no longer theirs.
            self.signals.status_message.emit(text)
            self.accept()
            return
        say(self.message, text, ok=True)
        self.signals.status_message.emit(text)

    # ----- actions --------------------------------------------------------------------

    def add_user(self) -> None:
        dialog = AddUserDialog(self.services, self)
        if dialog.exec() and dialog.added is not None:
            added = dialog.added
            self._done(f"Added {added.name} as {ROLE_LABELS[added.role]}.", added.name)

    def disable(self) -> None:
        user = self.selected()
        if user is None:
            return
        answer = QMessageBox.question(
            self,
            "Disable account",
            f"Stop {user.name} signing in? Their account and their entries in the audit "
            "trail are kept; setting them a new password lets them back in.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.services.users.disable_user(user.name)
        except CasebookError as error:
            say(self.message, error.message)
            return
        self._done(f"Disabled the account {user.name}; it can no longer sign in.", user.name)

    def unlock(self) -> None:
        user = self.selected()
        if user is None:
            return
        try:
            self.services.users.unlock_user(user.name)
        except CasebookError as error:
            say(self.message, error.message)
            return
        self._done(f"Unlocked the account {user.name}; they can sign in again.", user.name)

    def set_password(self) -> None:
        user = self.selected()
        if user is None:
            return
        if SetPasswordDialog(self.services, user.name, self).exec():
            self._done(
                f"Set a new password for {user.name}; tell them in person, not by email.",
                user.name,
            )

    def change_role(self) -> None:
        user = self.selected()
        if user is None:
            return
        dialog = ChangeRoleDialog(self.services, user, self)
        if dialog.exec() and dialog.changed is not None:
            changed = dialog.changed
            self._done(f"{changed.name} is now {ROLE_LABELS[changed.role]}.", changed.name)

    def change_my_password(self) -> None:
        if ChangePasswordDialog(self.services, self).exec():
            self._done("Your password has been changed.")


class AddUserDialog(QDialog):
    """A new user's name, role and first password."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.added: UserInfo | None = None
        self.setWindowTitle("Add user")
        self.setMinimumWidth(480)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("For example Mrs Patel")
        self.role = _role_box(self)
        self.message = message_line(self)
        form = QFormLayout()
        form.addRow("User name:", self.name)
        form.addRow("Role:", self.role)
        self.passwords = NewPasswordFields(form, self.message, self.name.text, self, "Password:")
        buttons = _buttons(self, "Add user")
        buttons.accepted.connect(self.try_add)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def try_add(self) -> None:
        try:
            password = self.passwords.value()
            self.added = self.services.users.add_user(
                self.name.text(), Role(self.role.currentData()), password
            )
        except CasebookError as error:
            say(self.message, error.message)
            return
        self.accept()


class SetPasswordDialog(QDialog):
    """The head teacher sets a new password for someone who has forgotten theirs."""

    def __init__(self, services: Services, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.user_name = name
        self.setWindowTitle(f"Set a new password for {name}")
        self.setMinimumWidth(480)
        intro = QLabel(
            f"Choose a new password for {name} and tell them in person. "
            "This also unlocks the account.",
            self,
        )
        intro.setWordWrap(True)
        self.message = message_line(self)
        form = QFormLayout()
        self.passwords = NewPasswordFields(form, self.message, lambda: name, self)
        buttons = _buttons(self, "Set password")
        buttons.accepted.connect(self.try_set)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def try_set(self) -> None:
        try:
            self.services.users.set_password(self.user_name, self.passwords.value())
        except CasebookError as error:
            say(self.message, error.message)
            return
        self.accept()


class ChangeRoleDialog(QDialog):
    """A different role for one user; the last head teacher keeps theirs."""

    def __init__(self, services: Services, user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.user = user
        self.changed: UserInfo | None = None
        self.setWindowTitle(f"Change the role of {user.name}")
        self.setMinimumWidth(480)
        self.role = _role_box(self, user.role)
        self.message = message_line(self)
        form = QFormLayout()
        form.addRow("User:", QLabel(user.name, self))
        form.addRow("Role:", self.role)
        buttons = _buttons(self, "Change role")
        buttons.accepted.connect(self.try_change)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def try_change(self) -> None:
        try:
            self.changed = self.services.users.set_role(
                self.user.name, Role(self.role.currentData())
            )
        except CasebookError as error:
            say(self.message, error.message)
            return
        self.accept()


class ChangePasswordDialog(QDialog):
    """The signed-in user changes their own password: the current one, then the new one twice."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        name = services.ctx.current_user.name
        self.setWindowTitle("Change my password")
        self.setMinimumWidth(480)
        self.old = password_box(self)
        self.message = message_line(self)
        form = QFormLayout()
        form.addRow("Current password:", self.old)
        self.passwords = NewPasswordFields(form, self.message, lambda: name, self)
        buttons = _buttons(self, "Change password")
        buttons.accepted.connect(self.try_change)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def try_change(self) -> None:
        try:
            new = self.passwords.value()
            self.services.users.change_password(self.old.text(), new)
        except AccountLockedError as error:
            say(self.message, error.message)
            return
        except SignInError as error:
            # Keep the warning about the lock, in words that fit this dialog.
            self.old.clear()
            say(
                self.message,
                error.message.replace(
                    "The user name or password is not right", "Your current password is not right"
                ),
            )
            return
        except CasebookError as error:
            say(self.message, error.message)
            return
        self.accept()
