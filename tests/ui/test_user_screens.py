"""The users screen and the forgotten-password dialog, driven as the head teacher would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMenu,
    QMessageBox,
    QPushButton,
    QWidget,
)

from app.domain.access import Role
from app.domain.errors import SignInError
from app.services.casebook import Services, open_casebook
from app.ui.dialogs.sign_in import RecoveryDialog, SignInDialog
from app.ui.dialogs.users import (
    AddUserDialog,
    ChangePasswordDialog,
    ChangeRoleDialog,
    SetPasswordDialog,
    UsersDialog,
)
from app.ui.lock import LockScreen
from app.ui.main_window import MainWindow
from app.ui.signals import AppSignals
from tests.conftest import Clock
from tests.ui.conftest import answer_next_dialog

HEAD_PASSWORD = "tide-marble-orchard-42"
OFFICE_PASSWORD = "lantern-river-copper-7"
NEW_PASSWORD = "copper-kettle-harbour-3"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def casebook(tmp_path: Path, clock: Clock) -> Iterator[tuple[Services, str]]:
    """A casebook with the head teacher signed in, and its recovery key."""
    services = open_casebook(tmp_path / "data", actor="Mrs Test", clock=clock)
    key = services.users.create_first_user("head", HEAD_PASSWORD)
    services.users.sign_in("head", HEAD_PASSWORD)
    yield services, key
    services.close()


@pytest.fixture
def services(casebook: tuple[Services, str]) -> Services:
    return casebook[0]


@pytest.fixture
def screen(qtbot, services: Services) -> UsersDialog:  # type: ignore[no-untyped-def]
    dialog = UsersDialog(services, AppSignals())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def click_ok(dialog: QWidget) -> None:
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    box.button(QDialogButtonBox.StandardButton.Ok).click()


def click(qtbot, button: QPushButton) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def lock_out(services: Services, clock: Clock, name: str) -> None:
    for _ in range(10):
        with pytest.raises(SignInError):
            services.users.sign_in(name, "not the password at all")
        clock.advance(minutes=2)
    services.users.sign_in("head", HEAD_PASSWORD)


# ----- the users screen ------------------------------------------------------------------


def test_a_user_added_appears_in_the_list(qtbot, screen: UsersDialog) -> None:  # type: ignore[no-untyped-def]
    assert screen.row_of("head") == (
        "head (you)",
        "Head teacher / designated safeguarding lead",
        "Can sign in",
        "24/11/2026 10:00",
    )

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, AddUserDialog)
        dialog.name.setText("Mrs Patel")
        dialog.role.setCurrentIndex(dialog.role.findText("Office staff"))
        dialog.passwords.password.setText(OFFICE_PASSWORD)
        dialog.passwords.again.setText(OFFICE_PASSWORD)
        click_ok(dialog)
        if dialog.isVisible():
            dialog.reject()

    answer_next_dialog(fill)
    click(qtbot, screen.add_button)
    assert screen.row_of("Mrs Patel") == ("Mrs Patel", "Office staff", "Can sign in", "Never")
    assert screen.selected() is not None and screen.selected().name == "Mrs Patel"  # type: ignore[union-attr]
    assert "Added Mrs Patel as Office staff." in screen.message.text()
    assert screen.services.users.sign_in("Mrs Patel", OFFICE_PASSWORD).role is Role.OFFICE


def test_a_weak_password_is_refused_inline_and_nothing_is_added(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    dialog = AddUserDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name.setText("Mrs Patel")
    dialog.passwords.password.setText("short")
    # Said as it is typed, before anything is pressed.
    assert "at least 10 characters" in dialog.message.text()
    dialog.passwords.again.setText("short")
    click_ok(dialog)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.message.text().startswith("The password must be at least 10 characters")
    dialog.passwords.password.setText("mrs-patel-rocks-2026")
    dialog.passwords.again.setText("mrs-patel-rocks-2026")
    click_ok(dialog)
    assert dialog.message.text() == "The password must not contain the user name."
    dialog.passwords.password.setText(OFFICE_PASSWORD)
    assert dialog.message.text() == "The two passwords do not match yet."
    click_ok(dialog)
    assert dialog.message.text() == "The two passwords do not match; type them again."
    assert dialog.isVisible()
    assert [u.name for u in services.users.list_users()] == ["head"]
    dialog.passwords.again.setText(OFFICE_PASSWORD)
    assert dialog.message.text() == "That password is strong enough."


def test_unlock_clears_the_locked_mark(  # type: ignore[no-untyped-def]
    qtbot, services: Services, clock: Clock
) -> None:
    services.users.add_user("Mrs Patel", Role.OFFICE, OFFICE_PASSWORD)
    lock_out(services, clock, "Mrs Patel")
    screen = UsersDialog(services, AppSignals())
    qtbot.addWidget(screen)
    screen.show()
    assert screen.row_of("Mrs Patel")[2] == "Locked"
    screen.select_user("head")
    assert not screen.unlock_button.isEnabled()
    screen.select_user("Mrs Patel")
    click(qtbot, screen.unlock_button)
    assert screen.row_of("Mrs Patel")[2] == "Can sign in"
    assert not screen.unlock_button.isEnabled()
    assert screen.message.text() == "Unlocked the account Mrs Patel; they can sign in again."
    assert services.users.sign_in("Mrs Patel", OFFICE_PASSWORD).name == "Mrs Patel"


def test_the_head_sets_a_new_password_for_someone_who_forgot(  # type: ignore[no-untyped-def]
    qtbot, services: Services, clock: Clock
) -> None:
    services.users.add_user("Mrs Patel", Role.OFFICE, OFFICE_PASSWORD)
    lock_out(services, clock, "Mrs Patel")
    screen = UsersDialog(services, AppSignals())
    qtbot.addWidget(screen)
    screen.show()
    screen.select_user("head")
    assert not screen.set_password_button.isEnabled()  # your own is changed with the old one
    screen.select_user("Mrs Patel")
    seen: list[str] = []

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, SetPasswordDialog)
        dialog.passwords.password.setText("password123")
        dialog.passwords.again.setText("password123")
        click_ok(dialog)
        seen.append(dialog.message.text())
        dialog.passwords.password.setText(NEW_PASSWORD)
        dialog.passwords.again.setText(NEW_PASSWORD)
        click_ok(dialog)
        if dialog.isVisible():
            dialog.reject()

    answer_next_dialog(fill)
    click(qtbot, screen.set_password_button)
    assert seen == ["That password is too easy to guess; choose a few unrelated words."]
    assert screen.row_of("Mrs Patel")[2] == "Can sign in"
    assert "Set a new password for Mrs Patel" in screen.message.text()
    with pytest.raises(SignInError):
        services.users.sign_in("Mrs Patel", OFFICE_PASSWORD)
    assert services.users.sign_in("Mrs Patel", NEW_PASSWORD).name == "Mrs Patel"


def test_the_last_head_teacher_cannot_be_demoted(qtbot, screen: UsersDialog) -> None:  # type: ignore[no-untyped-def]
    screen.select_user("head")
    seen: list[str] = []

    def demote(dialog: QWidget) -> None:
        assert isinstance(dialog, ChangeRoleDialog)
        dialog.role.setCurrentIndex(dialog.role.findText("Office staff"))
        click_ok(dialog)
        seen.append(dialog.message.text())
        seen.append("open" if dialog.isVisible() else "closed")
        dialog.reject()

    answer_next_dialog(demote)
    click(qtbot, screen.role_button)
    assert seen == [
        "The casebook needs a head teacher who can sign in and head is the only one; "
        "make another user head teacher first.",
        "open",
    ]
    assert screen.row_of("head")[1] == "Head teacher / designated safeguarding lead"


def test_a_role_is_changed_and_shown(qtbot, screen: UsersDialog) -> None:  # type: ignore[no-untyped-def]
    screen.services.users.add_user("Mr Governor", Role.OFFICE, OFFICE_PASSWORD)
    screen.refresh("Mr Governor")

    def choose(dialog: QWidget) -> None:
        assert isinstance(dialog, ChangeRoleDialog)
        dialog.role.setCurrentIndex(dialog.role.findText("Read-only (governors’ reports)"))
        click_ok(dialog)
        if dialog.isVisible():
            dialog.reject()

    answer_next_dialog(choose)
    click(qtbot, screen.role_button)
    assert screen.row_of("Mr Governor")[1] == "Read-only (governors’ reports)"
    assert screen.message.text() == "Mr Governor is now Read-only (governors’ reports)."


def test_change_my_password_needs_the_current_one(qtbot, screen: UsersDialog) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def change(dialog: QWidget) -> None:
        assert isinstance(dialog, ChangePasswordDialog)
        dialog.old.setText("not my password")
        dialog.passwords.password.setText(NEW_PASSWORD)
        dialog.passwords.again.setText(NEW_PASSWORD)
        click_ok(dialog)
        seen.append(dialog.message.text())
        dialog.old.setText(HEAD_PASSWORD)
        click_ok(dialog)
        if dialog.isVisible():
            dialog.reject()

    answer_next_dialog(change)
    click(qtbot, screen.my_password_button)
    assert seen == ["Your current password is not right."]
    assert screen.message.text() == "Your password has been changed."
    assert screen.services.users.sign_in("head", NEW_PASSWORD).name == "head"


def test_office_staff_are_refused_the_users_screen(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    services.users.add_user("Mrs Patel", Role.OFFICE, OFFICE_PASSWORD)
    services.users.sign_in("Mrs Patel", OFFICE_PASSWORD)
    window = MainWindow(services)
    qtbot.addWidget(window)
    menus = {m.title(): m for m in window.menuBar().findChildren(QMenu)}
    assert window.users_action in menus["&Administration"].actions()
    said: list[str] = []

    def read(dialog: QWidget) -> None:
        assert isinstance(dialog, QMessageBox)
        said.append(dialog.text())
        dialog.accept()

    answer_next_dialog(read)
    window.users_action.trigger()
    assert said == ["Your role (Office staff) does not allow you to manage users."]
    assert not window.findChildren(UsersDialog)
    window.close()


# ----- forgotten password: the recovery key ----------------------------------------------


def test_the_recovery_key_sets_a_new_password_and_signs_in(  # type: ignore[no-untyped-def]
    qtbot, casebook: tuple[Services, str], clock: Clock
) -> None:
    services, key = casebook
    services.ctx.user = None
    sign_in = SignInDialog(services, "head")
    qtbot.addWidget(sign_in)
    sign_in.show()

    def recover(dialog: QWidget) -> None:
        assert isinstance(dialog, RecoveryDialog)
        assert dialog.name.text() == "head"
        dialog.key.setText(key.lower().replace("-", " "))  # as typed from the paper, loosely
        dialog.passwords.password.setText(NEW_PASSWORD)
        dialog.passwords.again.setText(NEW_PASSWORD)
        click_ok(dialog)
        if dialog.isVisible():
            dialog.reject()

    answer_next_dialog(recover)
    click(qtbot, sign_in.forgotten_button)
    assert sign_in.result() == QDialog.DialogCode.Accepted
    assert services.ctx.current_user.name == "head"
    # The next sign-in takes the new password, not the old one.
    with pytest.raises(SignInError):
        services.users.sign_in("head", HEAD_PASSWORD)
    clock.advance(minutes=1)
    again = SignInDialog(services, "head")
    qtbot.addWidget(again)
    again.password.setText(NEW_PASSWORD)
    click_ok(again)
    assert again.result() == QDialog.DialogCode.Accepted


def test_a_wrong_recovery_key_is_said_plainly_and_the_dialog_stays(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    dialog = RecoveryDialog(services, "head")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.passwords.password.setText(NEW_PASSWORD)
    dialog.passwords.again.setText(NEW_PASSWORD)
    dialog.key.setText("ABCDE-FGHJK")
    click_ok(dialog)
    assert dialog.message.text() == (
        "A recovery key has six groups of five letters and digits, like "
        "ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2-34567."
    )
    dialog.key.setText("ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2-34567")
    click_ok(dialog)
    assert dialog.message.text() == (
        "The recovery key is not right; check it against the printed copy."
    )
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert services.users.sign_in("head", HEAD_PASSWORD).name == "head"


def test_the_recovery_key_also_opens_a_locked_window(  # type: ignore[no-untyped-def]
    qtbot, casebook: tuple[Services, str]
) -> None:
    services, key = casebook
    screen = LockScreen(services)
    qtbot.addWidget(screen)
    screen.show()
    screen.prepare()
    names: list[tuple[str, bool]] = []

    def recover(dialog: QWidget) -> None:
        assert isinstance(dialog, RecoveryDialog)
        names.append((dialog.name.text(), dialog.name.isReadOnly()))
        dialog.key.setText(key)
        dialog.passwords.password.setText(NEW_PASSWORD)
        dialog.passwords.again.setText(NEW_PASSWORD)
        click_ok(dialog)
        if dialog.isVisible():
            dialog.reject()

    answer_next_dialog(recover)
    with qtbot.waitSignal(screen.unlocked, timeout=30_000):
        click(qtbot, screen.forgotten_button)
    assert names == [("head", True)]  # only the signed-in user's own password
    assert services.ctx.current_user.name == "head"
    assert services.users.sign_in("head", NEW_PASSWORD).name == "head"


def test_office_staff_change_their_own_password_from_the_file_menu(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    services.users.add_user("Mrs Patel", Role.OFFICE, OFFICE_PASSWORD)
    services.users.sign_in("Mrs Patel", OFFICE_PASSWORD)
    window = MainWindow(services)
    qtbot.addWidget(window)
    menus = {m.title(): m for m in window.menuBar().findChildren(QMenu)}
    assert window.change_password_action in menus["&File"].actions()

    def change(dialog: QWidget) -> None:
        assert isinstance(dialog, ChangePasswordDialog)
        dialog.old.setText(OFFICE_PASSWORD)
        dialog.passwords.password.setText(NEW_PASSWORD)
        dialog.passwords.again.setText(NEW_PASSWORD)
        click_ok(dialog)

    answer_next_dialog(change)
    window.change_password_action.trigger()
    assert window.statusBar().currentMessage() == "Your password has been changed."
    assert services.users.sign_in("Mrs Patel", NEW_PASSWORD).name == "Mrs Patel"
    with pytest.raises(SignInError):
        services.users.sign_in("Mrs Patel", OFFICE_PASSWORD)
    window.close()
