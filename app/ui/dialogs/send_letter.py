"""Send by email: shows what will be sent (to, copy, subject, message, attachment), then
sends it off the GUI thread. A failure is one sentence in the dialog; the letter stays
prepared. After an attempt that may have been delivered, sending again needs a tick."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_date_time
from app.domain.errors import CasebookError
from app.services.casebook import Services
from app.services.mail import LetterEmail, OutgoingLetter
from app.ui.widgets import run_while_busy

ERROR_STYLE = "color:#a4262c;"
WARNING_STYLE = "color:#8a5300;"


class SendLetterDialog(QDialog):
    """One letter, by email, from the school's mailbox."""

    def __init__(
        self, services: Services, outgoing: OutgoingLetter, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.outgoing = outgoing
        self.sent: LetterEmail | None = None
        letter = outgoing.letter
        self.setWindowTitle(f"Send by email — {letter.case_reference}")
        self.setMinimumWidth(600)
        office = services.letters.profile.get().email

        form = QFormLayout()
        form.addRow("From", QLabel(outgoing.sender, self))
        form.addRow("To", QLabel(f"{letter.recipient_name} <{outgoing.to_address}>", self))
        self.cc_office = QCheckBox(
            f"Copy the school &office ({office})" if office else "Copy the school &office", self
        )
        self.cc_office.setEnabled(bool(office))
        form.addRow("Copy", self.cc_office)
        form.addRow("Subject", QLabel(outgoing.subject, self))
        form.addRow("Attached", QLabel(f"{outgoing.attachment} ({letter.label})", self))
        body = QPlainTextEdit(outgoing.body, self)
        body.setReadOnly(True)
        body.setFixedHeight(170)
        body.setAccessibleName("Covering message")
        body.setTabChangesFocus(True)

        self.confirm_again = QCheckBox(
            "I have checked the Sent folder and it is not there: send it &again", self
        )
        self.warning = QLabel("", self)
        self.warning.setWordWrap(True)
        previous = outgoing.previous
        self.needs_confirmation = previous is not None and previous.may_have_gone
        if previous is not None and previous.may_have_gone:
            self.warning.setText(
                f"An earlier attempt, on {format_date_time(previous.last_attempt_at)}, was cut "
                "off after the message was handed to the mail server, so it may already have "
                f"reached {previous.to_address}. It will be sent as the same message."
            )
            self.warning.setStyleSheet(WARNING_STYLE)
            self.confirm_again.toggled.connect(self._update_send)
        else:
            self.confirm_again.setVisible(False)
            if previous is not None and previous.last_error:
                self.warning.setText(f"The last attempt failed: {previous.last_error}")
                self.warning.setStyleSheet(ERROR_STYLE)
        self.warning.setVisible(bool(self.warning.text()))

        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setVisible(False)
        self.message.setAccessibleName("Result")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.send_button = self.buttons.addButton("&Send", QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setDefault(True)
        self.buttons.accepted.connect(self.send)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Message", self))
        layout.addWidget(body)
        layout.addWidget(self.warning)
        layout.addWidget(self.confirm_again)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._update_send()

    def _update_send(self) -> None:
        self.send_button.setEnabled(not self.needs_confirmation or self.confirm_again.isChecked())

    def send(self) -> None:
        letter_id = self.outgoing.letter.id
        cc_office = self.cc_office.isChecked()
        again = self.confirm_again.isChecked()
        self.send_button.setEnabled(False)
        try:
            self.sent = run_while_busy(
                self,
                "Sending the letter…",
                lambda: self.services.mail.send_letter(
                    letter_id, cc_office=cc_office, send_again=again
                ),
            )
        except CasebookError as error:
            self.message.setText(error.message)
            self.message.setVisible(True)
            self._update_send()
            return
        self.accept()


def send_letter_by_email(services: Services, letter_id: int, parent: QWidget) -> LetterEmail | None:
    """Open Send by email for a letter; the record of what was sent, or None.

    What stops it before the dialog (no address on record, mail not set up) is shown as
    one sentence in a message box.
    """
    from PySide6.QtWidgets import QMessageBox

    try:
        outgoing = services.mail.prepare_letter(letter_id)
    except CasebookError as error:
        QMessageBox.warning(parent, "The letter cannot be sent by email", error.message)
        return None
    dialog = SendLetterDialog(services, outgoing, parent)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        return dialog.sent
    return None
