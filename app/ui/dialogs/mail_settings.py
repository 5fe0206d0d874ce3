"""Email settings: the school's outgoing mail server (with presets), who reminders go to,
the covering message letters are sent with, and a Test button."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasebookError
from app.domain.mail import (
    APP_PASSWORD_NOTE,
    BODY_FIELDS,
    PRESETS,
    SECURITY_LABELS,
    SUBJECT_FIELDS,
    CoveringMessage,
    MailSecurity,
    MailSettings,
)
from app.services.casebook import Services
from app.ui.widgets import run_while_busy, tab_moves_on

log = logging.getLogger(__name__)

OTHER = "Another mail service (type its details)"
ERROR_STYLE = "color:#a4262c;"
DONE_STYLE = "color:#107c10;"


class MailSettingsDialog(QDialog):
    """Settings › Email. Saving checks every field and says what is wrong in one sentence."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Email settings")
        self.setMinimumWidth(640)
        settings = services.mail.settings()

        self.preset = QComboBox(self)
        self.preset.addItem(OTHER, "")
        for preset in PRESETS:
            self.preset.addItem(preset.label, preset.id)
        self.preset.setAccessibleName("Mail service")
        self.host = QLineEdit(settings.host, self)
        self.host.setPlaceholderText("e.g. smtp.office365.com")
        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(settings.port)
        self.security = QComboBox(self)
        for security in MailSecurity:
            self.security.addItem(SECURITY_LABELS[security], security.value)
        self.security.setCurrentIndex(list(MailSecurity).index(settings.security))
        self.user = QLineEdit(settings.user, self)
        self.user.setPlaceholderText("the mailbox’s address, e.g. office@school.sch.uk")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(
            "saved and sealed; type only to change it"
            if settings.has_password
            else "the mailbox’s password or app password"
        )
        self.from_address = QLineEdit(settings.from_address, self)
        self.from_address.setPlaceholderText("empty: the user name")
        self.note = QLabel(APP_PASSWORD_NOTE, self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color:#444;")
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self._select_matching_preset(settings)

        server = QFormLayout()
        server.addRow("&Mail service", self.preset)
        server.addRow("&Server", self.host)
        server.addRow("&Port", self.port)
        server.addRow("Se&curity", self.security)
        server.addRow("&User name", self.user)
        server.addRow("Pass&word", self.password)
        server.addRow("Sending &address", self.from_address)
        server.addRow("", self.note)
        server_box = QGroupBox("Outgoing mail server", self)
        server_box.setLayout(server)

        self.head_address = QLineEdit(settings.head_address, self)
        self.head_address.setPlaceholderText("empty: the school’s mailbox")
        self.dsl_address = QLineEdit(settings.dsl_address, self)
        self.dsl_address.setPlaceholderText("empty: the head teacher has them all")
        reminders = QFormLayout()
        reminders.addRow("&Head teacher", self.head_address)
        reminders.addRow("&DSL (safeguarding items)", self.dsl_address)
        reminders_box = QGroupBox("Daily reminders (casebook remind) go to", self)
        reminders_box.setLayout(reminders)

        covering = services.mail.covering()
        self.subject = QLineEdit(covering.subject, self)
        self.body = QPlainTextEdit(covering.body, self)
        tab_moves_on(self.body)
        self.body.setFixedHeight(110)
        fields = QLabel(
            "The subject may use "
            + ", ".join("{" + f + "}" for f in SUBJECT_FIELDS)
            + " only (it shows on lock screens); the message may use "
            + ", ".join("{" + f + "}" for f in BODY_FIELDS)
            + ". The letter itself is attached as a PDF; the message should not repeat it.",
            self,
        )
        fields.setWordWrap(True)
        fields.setStyleSheet("color:#444;")
        default_button = QPushButton("Use the sh&ipped message", self)
        default_button.clicked.connect(self._default_message)
        message = QFormLayout()
        message.addRow("Su&bject", self.subject)
        message.addRow("Messa&ge", self.body)
        message.addRow("", fields)
        message.addRow("", default_button)
        message_box = QGroupBox("Covering message sent with each letter", self)
        message_box.setLayout(message)

        self.test_to = QLineEdit(self)
        self.test_to.setPlaceholderText("an address to send a test message to")
        self.test_to.setAccessibleName("Test address")
        self.test_button = QPushButton("Save and send &test", self)
        self.test_button.clicked.connect(self.send_test)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_to, 1)
        test_row.addWidget(self.test_button)

        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Result")

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save_and_close)
        buttons.rejected.connect(self.reject)

        # The settings scroll on a short screen; the test row and the buttons stay in view.
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.setContentsMargins(0, 0, 0, 0)
        inner_layout.addWidget(server_box)
        inner_layout.addWidget(reminders_box)
        inner_layout.addWidget(message_box)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(test_row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    # ----- presets ----------------------------------------------------------------------

    def _select_matching_preset(self, settings: MailSettings) -> None:
        for index, preset in enumerate(PRESETS, start=1):
            if (preset.host, preset.port, preset.security) == (
                settings.host,
                settings.port,
                settings.security,
            ):
                self.preset.blockSignals(True)
                self.preset.setCurrentIndex(index)
                self.preset.blockSignals(False)
                self.note.setText(preset.note)
                return

    def _preset_chosen(self, index: int) -> None:
        preset_id = self.preset.itemData(index)
        preset = next((p for p in PRESETS if p.id == preset_id), None)
        if preset is None:
            self.note.setText(APP_PASSWORD_NOTE)
            return
        self.host.setText(preset.host)
        self.port.setValue(preset.port)
        self.security.setCurrentIndex(list(MailSecurity).index(preset.security))
        self.note.setText(preset.note)

    def _default_message(self) -> None:
        default = CoveringMessage()
        self.subject.setText(default.subject)
        self.body.setPlainText(default.body)

    # ----- saving and testing ------------------------------------------------------------

    def _show(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else DONE_STYLE)

    def _settings(self) -> MailSettings:
        return MailSettings(
            host=self.host.text(),
            port=self.port.value(),
            security=MailSecurity(self.security.currentData()),
            user=self.user.text(),
            from_address=self.from_address.text(),
            head_address=self.head_address.text(),
            dsl_address=self.dsl_address.text(),
        )

    def save(self) -> bool:
        """Save everything; False (with the reason shown) if anything is refused."""
        password = self.password.text() or None
        try:
            if password is None and not self.services.mail.settings().has_password:
                self._show("Type the mailbox’s password (or app password).", error=True)
                self.password.setFocus()
                return False
            self.services.mail.save_settings(self._settings(), password)
            self.services.mail.save_covering(
                CoveringMessage(self.subject.text(), self.body.toPlainText())
            )
        except CasebookError as error:
            self._show(error.message, error=True)
            return False
        self.password.clear()
        self.password.setPlaceholderText("saved and sealed; type only to change it")
        return True

    def save_and_close(self) -> None:
        if self.save():
            self.accept()

    def send_test(self) -> None:
        if not self.save():
            return
        address = self.test_to.text()
        self._show("Sending a test message…", error=False)
        try:
            delivery = run_while_busy(
                self, "Sending a test message…", lambda: self.services.mail.test(address)
            )
        except CasebookError as error:
            self._show(error.message, error=True)
            return
        self._show(
            f"Sent a test message to {address.strip()}; the server replied: {delivery.reply}",
            error=False,
        )
